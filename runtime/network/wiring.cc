#include "runtime/network/wiring.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/network/netns.h"

namespace hull::network {
namespace {

// The kernel's answers for "already gone": the device (ENODEV), or the qdisc
// (ENOENT, EINVAL: no ingress qdisc to delete).
bool gone(const Error& e) {
  return e.code == Errc::System &&
         (e.sys_errno == ENODEV || e.sys_errno == ENOENT || e.sys_errno == EINVAL);
}

Result<UniqueFd> open_tap(const std::string& name) {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) return fail_errno("opening /dev/net/tun (is the tun module loaded?)");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  std::memcpy(ifr.ifr_name, name.c_str(), std::min(name.size(), sizeof ifr.ifr_name - 1));
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) return fail_errno("creating tap " + name);
  return fd;
}

}  // namespace

Error vanished_error(const std::string& link, int index, const std::string& netns,
                     std::string_view when) {
  return Error{Errc::NotFound, 0,
               "interface " + link + " (index " + std::to_string(index) +
                   ") vanished from network namespace " + netns + " " + std::string(when) +
                   ": something deleted it while the container was being created (a hook, or "
                   "the network's owner: docker, podman, a CNI plugin), and the VM's NIC would "
                   "have no way out; nothing of the container was kept: find what removes the "
                   "interface, then create the container again"};
}

bool link_exists(int index, const std::string& name) {
  char buf[IF_NAMESIZE] = {};
  return index > 0 && ::if_indextoname(static_cast<unsigned>(index), buf) != nullptr && name == buf;
}

Result<std::unique_ptr<Wiring>> Wiring::create(const Plan& plan, const std::string& netns) {
  HULL_TRY(refuse_host_netns("wiring the container's interfaces"));
  HULL_ASSIGN(nl, NetlinkSocket::open());
  std::unique_ptr<Wiring> w(new Wiring(std::move(nl), netns));
  for (size_t i = 0; i < plan.nics.size(); ++i) {
    // On failure the destructor removes what the earlier steps made.
    const NicPlan& n = plan.nics[i];
    if (auto st = w->wire_one(n, i); !st) {
      if (!link_exists(n.link_index, n.link)) {
        return fail(vanished_error(n.link, n.link_index, netns, "before it was wired"));
      }
      return fail(std::move(st.error()).wrap("interface " + n.link));
    }
  }
  return w;
}

Status Wiring::check_links() const {
  for (const auto& n : nics_) {
    if (!link_exists(n.link_index, n.link)) {
      return fail(vanished_error(n.link, n.link_index, netns_, "while the VM booted"));
    }
  }
  return {};
}

Status Wiring::wire_one(const NicPlan& n, size_t i) {
  TapNic nic;
  nic.id = "net" + std::to_string(i);
  nic.link = n.link;
  nic.link_index = n.link_index;
  nic.tap = n.tap;
  nic.mac = n.mac;
  nic.mtu = n.mtu;
  HULL_ASSIGN(fd, open_tap(n.tap));
  nic.tap_fd = std::move(fd);
  int tap_index = static_cast<int>(::if_nametoindex(n.tap.c_str()));
  if (tap_index == 0) return fail_errno("finding tap " + n.tap);
  taps_.push_back(tap_index);
  uint32_t seq = nl_.next_seq();
  HULL_TRY(wrap(nl_.request(build_link_up(seq, tap_index, n.mtu), seq),
                "setting tap " + n.tap + " up with MTU " + std::to_string(n.mtu)));
  seq = nl_.next_seq();
  HULL_TRY(wrap(nl_.request(build_ingress_qdisc(seq, n.link_index, true), seq),
                "adding an ingress qdisc (does it have one already?)"));
  ingress_on_.push_back(n.link_index);
  seq = nl_.next_seq();
  HULL_TRY(wrap(nl_.request(build_ingress_qdisc(seq, tap_index, true), seq),
                "adding an ingress qdisc to tap " + n.tap));
  seq = nl_.next_seq();
  HULL_TRY(wrap(nl_.request(build_redirect_filter(seq, n.link_index, tap_index), seq),
                "redirecting its traffic to tap " + n.tap));
  seq = nl_.next_seq();
  HULL_TRY(wrap(nl_.request(build_redirect_filter(seq, tap_index, n.link_index), seq),
                "redirecting tap " + n.tap + "'s traffic to it"));
  open_vhost_net(kVhostNetPath, nic);
  nics_.push_back(std::move(nic));
  return {};
}

VhostChoice vhost_choice(int open_errno, const std::string& path) {
  VhostChoice c;
  if (open_errno == 0) {
    c.use = true;
    return c;
  }
  const std::string err = std::strerror(open_errno);
  if (open_errno == ENOENT || open_errno == ENODEV || open_errno == ENXIO) {
    c.note = path + ": " + err + " (the host kernel has no vhost_net, or the module is not " +
             "loaded): QEMU moves the NIC's packets itself (vhost=off)";
    return c;
  }
  c.warn = true;
  c.note = "cannot open " + path + ": " + err +
           ": QEMU moves the NIC's packets itself (vhost=off), which is slower; allow hull " +
           "to open it (device cgroup, LSM policy) to use the host's vhost-net";
  return c;
}

void open_vhost_net(const std::string& path, TapNic& nic) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  VhostChoice c = vhost_choice(fd ? 0 : errno, path);
  if (c.use) {
    nic.vhost_fd = std::move(fd);
  } else {
    nic.vhost_fd.reset();
  }
  nic.vhost_note = std::move(c.note);
  nic.vhost_warn = c.warn;
}

Status Wiring::remove() {
  if (removed_) return {};
  removed_ = true;
  Status result;
  auto note = [&](Status st, const std::string& what) {
    if (!st && !gone(st.error()) && result) result = fail(std::move(st.error()).wrap(what));
  };
  for (int index : ingress_on_) {
    uint32_t seq = nl_.next_seq();
    note(nl_.request(build_ingress_qdisc(seq, index, false), seq),
         "removing the ingress qdisc of interface " + std::to_string(index));
  }
  for (int index : taps_) {
    uint32_t seq = nl_.next_seq();
    note(nl_.request(build_link_delete(seq, index), seq), "deleting tap " + std::to_string(index));
  }
  nics_.clear();  // the fds: a tap whose last fd closes is gone too
  return result;
}

Wiring::~Wiring() {
  (void)remove();
}

Status remove_leftovers(const std::vector<std::string>& links) {
  HULL_TRY(refuse_host_netns("removing a container's taps and filters"));
  HULL_ASSIGN(nl, NetlinkSocket::open());
  HULL_ASSIGN(scan, nl.scan());
  Status result;
  auto note = [&](Status st, const std::string& what) {
    if (!st && !gone(st.error()) && result) result = fail(std::move(st.error()).wrap(what));
  };
  for (const auto& l : scan.links) {
    uint32_t seq = nl.next_seq();
    if (l.kind == "tun" && l.name.starts_with("hulltap")) {
      note(nl.request(build_link_delete(seq, l.index), seq), "deleting tap " + l.name);
    } else if (std::find(links.begin(), links.end(), l.name) != links.end()) {
      note(nl.request(build_ingress_qdisc(seq, l.index, false), seq),
           "removing the ingress qdisc of " + l.name);
    }
  }
  return result;
}

}  // namespace hull::network
