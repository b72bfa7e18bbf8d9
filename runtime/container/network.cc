#include "runtime/container/network.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "common/log.h"
#include "common/unique_fd.h"
#include "runtime/network/netns.h"

namespace hull::container {
namespace {

// Why a VM cannot take a namespace that others use: hull moves the traffic
// of each of its interfaces to the VM's NIC, so whatever used them before
// would lose its network.
constexpr const char* kWhyNot =
    "a hull container runs in a VM, whose NICs take over the traffic of every interface of "
    "its network namespace, so it needs a namespace of its own";

Status bring_up_loopback() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return fail_errno("socket for the loopback interface");
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &req) != 0) return fail_errno("reading lo's flags");
  if (req.ifr_flags & IFF_UP) return {};
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &req) != 0) return fail_errno("bringing lo up");
  return {};
}

}  // namespace

NetworkChoice network_choice(const oci::Spec& spec) {
  NetworkChoice c;
  if (!spec.linux || !spec.linux->namespaces) return c;
  for (const auto& ns : *spec.linux->namespaces) {
    if (ns.type != "network") continue;
    if (ns.path && !ns.path->empty()) {
      c.mode = NetMode::Path;
      c.path = *ns.path;
    } else {
      c.mode = NetMode::New;
    }
  }
  return c;
}

int process_netns_pid(const std::string& path) {
  // /proc/<pid>/ns/net or /proc/<pid>/task/<tid>/ns/net, with no other parts.
  std::string_view p = path;
  if (p.find("//") != std::string_view::npos) return 0;  // not a canonical form
  if (!p.starts_with("/proc/")) return 0;
  p.remove_prefix(6);
  size_t slash = p.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash > 9) return 0;
  std::string_view pid = p.substr(0, slash);
  if (pid.find_first_not_of("0123456789") != std::string_view::npos) return 0;
  std::string_view rest = p.substr(slash);
  if (rest.starts_with("/task/")) {
    rest.remove_prefix(6);
    size_t s2 = rest.find('/');
    if (s2 == 0 || s2 == std::string_view::npos) return 0;
    if (rest.substr(0, s2).find_first_not_of("0123456789") != std::string_view::npos) return 0;
    rest = rest.substr(s2);
  }
  if (rest != "/ns/net") return 0;
  return std::stoi(std::string(pid));
}

Status check_network_choice(const NetworkChoice& c) {
  if (c.mode == NetMode::None) {
    // OCI: no entry means the caller's namespace, which podman and ctr ask
    // for with --network host / --net-host, and CRI for a hostNetwork pod.
    return fail(Errc::Unsupported,
                "config.json: linux.namespaces: there is no \"network\" entry, so the container "
                "would share the network namespace of hull's caller (podman --network host, "
                "ctr --net-host, a hostNetwork pod): " +
                    std::string(kWhyNot) +
                    "; add {\"type\": \"network\"} for a namespace of its own (loopback "
                    "only), or name one by path (a bridge or CNI network)");
  }
  if (c.mode != NetMode::Path) return {};
  const std::string what = "config.json: linux.namespaces: network namespace " + c.path;
  auto host_error = [&] {
    return fail(Errc::Unsupported,
                what + " is the host's own (docker/podman --network host): " + kWhyNot +
                    "; use a bridge or user-defined network, or another "
                    "runtime for host networking");
  };
  const int pid = process_netns_pid(c.path);
  if (pid == 1) return host_error();
  auto other_error = [&] {
    return fail(Errc::Unsupported,
                what + " is the namespace of process " + std::to_string(pid) +
                    " (docker/podman --network container:X): its interfaces are that "
                    "container's, and " +
                    kWhyNot + "; give this container a network of its own");
  };
  auto target = network::netns_id(c.path);
  if (!target && pid > 0) return other_error();
  if (!target) return fail(std::move(target.error()).wrap("config.json: linux.namespaces"));
  HULL_ASSIGN(self, network::netns_id("/proc/self/ns/net"));
  auto host = network::host_netns();  // unreadable under some sandboxes: the inode rule stays
  if (network::is_host_netns(*target, host ? &*host : nullptr) || *target == self) {
    return host_error();
  }
  if (pid > 0) return other_error();
  return {};
}

Status enter_network(const NetworkChoice& c) {
  if (c.mode == NetMode::None) return {};
  HULL_ASSIGN(before, network::current_netns());
  if (c.mode == NetMode::New) {
    if (::unshare(CLONE_NEWNET) != 0) {
      return fail_errno("creating the container's network namespace");
    }
  } else {
    HULL_TRY(check_network_choice(c));
    UniqueFd fd(::open(c.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("opening network namespace " + c.path);
    if (::setns(fd.get(), CLONE_NEWNET) != 0) {
      return fail_errno("joining network namespace " + c.path);
    }
  }
  // Never the namespace this process was started in (the caller's), nor the host's.
  HULL_ASSIGN(now, network::current_netns());
  if (now == before) {
    return fail(Errc::Unsupported,
                "the container's network namespace is the one hull was "
                "started in: " +
                    std::string(kWhyNot));
  }
  HULL_TRY(network::refuse_host_netns("the container's network namespace"));
  if (c.mode == NetMode::New) {
    return wrap(bring_up_loopback(), "the container's network namespace");
  }
  return {};
}

std::vector<sandbox::SandboxNic> VmNetwork::sandbox_nics() const {
  std::vector<sandbox::SandboxNic> out;
  if (!wiring) return out;
  for (const auto& n : wiring->nics()) {
    out.push_back({n.id, n.tap_fd.get(), n.vhost_fd.valid() ? n.vhost_fd.get() : -1, n.mac, n.mtu});
  }
  return out;
}

std::string describe_netns(const NetworkChoice& c, uint64_t ino) {
  const std::string id = "net:[" + std::to_string(ino) + "]";
  if (c.mode == NetMode::Path) return c.path + " (" + id + ")";
  return id + ", which hull made for the container";
}

Result<VmNetwork> wire_network(const NetworkChoice& c) {
  VmNetwork v;
  if (c.mode == NetMode::None) return v;
  HULL_TRY(network::refuse_host_netns("scanning the container's network namespace"));
  HULL_ASSIGN(self, network::current_netns());
  v.netns = describe_netns(c, self.ino);
  HULL_ASSIGN(nl, network::NetlinkSocket::open());
  HULL_ASSIGN(scan, wrap(nl.scan(), "scanning the container's network namespace"));
  HULL_ASSIGN(plan, wrap(network::plan_network(scan), "the container's network namespace"));
  for (const auto& note : plan.notes) log::debug("network: " + note);
  if (!plan.nics.empty()) {
    HULL_ASSIGN(w, wrap(network::Wiring::create(plan, v.netns), "wiring the container's network"));
    for (const auto& n : w->nics()) {
      if (n.vhost_note.empty()) continue;
      const std::string line = "network: " + n.link + ": " + n.vhost_note;
      if (n.vhost_warn) {
        log::warn(line);
      } else {
        log::debug(line);
      }
    }
    v.wiring = std::move(w);
  }
  v.plan = std::move(plan);
  return v;
}

std::vector<agent::Interface> guest_interfaces(const network::Plan& plan) {
  std::vector<agent::Interface> out;
  for (const auto& n : plan.nics) {
    agent::Interface i;
    i.set_name(n.link);
    i.set_mac(n.mac);
    i.set_mtu(n.mtu);
    i.set_up(true);
    for (const auto& a : n.addresses) {
      auto* ip = i.add_addresses();
      ip->set_address(a.address);
      ip->set_prefix_len(a.prefix_len);
    }
    out.push_back(std::move(i));
  }
  return out;
}

agent::Routes guest_routes(const network::Plan& plan) {
  agent::Routes rs;
  for (const auto& r : plan.routes) {
    auto* g = rs.add_routes();
    g->set_destination(r.destination);
    g->set_gateway(r.gateway);
    g->set_device(r.device);
    g->set_source(r.source);
    g->set_scope(r.scope);
    g->set_metric(r.metric);
    g->set_family(r.family == AF_INET6 ? 6 : 4);
    g->set_mtu(r.mtu);
  }
  return rs;
}

agent::Neighbors guest_neighbours(const network::Plan& plan) {
  agent::Neighbors ns;
  for (const auto& n : plan.neighbours) {
    auto* g = ns.add_neighbors();
    g->set_address(n.address);
    g->set_mac(n.mac);
    g->set_device(n.device);
  }
  return ns;
}

Status configure_guest_network(sandbox::AgentClient& agent, const VmNetwork& net) {
  const network::Plan& plan = net.plan;
  for (const auto& i : guest_interfaces(plan)) {
    HULL_TRY(wrap(agent.update_interface(i), "configuring the guest's " + i.name()));
  }
  if (!plan.routes.empty()) {
    HULL_TRY(wrap(agent.update_routes(guest_routes(plan)), "configuring the guest's routes"));
  }
  if (!plan.neighbours.empty()) {
    HULL_TRY(
        wrap(agent.add_neighbours(guest_neighbours(plan)), "adding the guest's static neighbours"));
  }
  if (net.wiring) HULL_TRY(net.wiring->check_links());
  return {};
}

}  // namespace hull::container
