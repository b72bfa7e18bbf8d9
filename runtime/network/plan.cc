#include "runtime/network/plan.h"

#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <set>

#include "runtime/network/limits.h"

namespace hull::network {
namespace {

// Kinds a container's interface comes as ("" is a physical NIC moved in).
bool wireable_kind(const std::string& kind) {
  static const std::set<std::string> kinds = {"",     "veth",    "macvlan", "ipvlan",
                                              "vlan", "macvtap", "dummy"};
  return kinds.contains(kind);
}

std::string describe(const Link& l) {
  return l.name + " (" + (l.kind.empty() ? std::string("no kind") : l.kind) + ")";
}

// A tap name not taken by any link of the namespace: hulltap0, hulltap1, ...
std::string free_tap_name(const std::set<std::string>& taken, size_t& next) {
  for (;; ++next) {
    std::string n = "hulltap" + std::to_string(next);
    if (!taken.contains(n)) {
      ++next;
      return n;
    }
  }
}

}  // namespace

std::string route_destination(const Route& r) {
  if (r.dst_len == 0) return r.family == AF_INET6 ? "::/0" : "default";
  return r.destination + "/" + std::to_string(r.dst_len);
}

Result<Plan> plan_network(const Scan& scan) {
  if (scan.links.size() > kMaxLinks || scan.addresses.size() > kMaxAddresses ||
      scan.routes.size() > kMaxRoutes || scan.neighbours.size() > kMaxNeighbours) {
    return fail(Errc::GuestProtocol,
                "the network namespace holds " + std::to_string(scan.links.size()) + " links, " +
                    std::to_string(scan.addresses.size()) + " addresses, " +
                    std::to_string(scan.routes.size()) + " routes and " +
                    std::to_string(scan.neighbours.size()) + " neighbours (at most " +
                    std::to_string(kMaxLinks) + ", " + std::to_string(kMaxAddresses) + ", " +
                    std::to_string(kMaxRoutes) + ", " + std::to_string(kMaxNeighbours) + ")");
  }
  Plan plan;
  std::set<std::string> names;
  std::set<int> indexes;
  for (const auto& l : scan.links) {
    if (!indexes.insert(l.index).second || !names.insert(l.name).second) {
      return fail(Errc::GuestProtocol, "the scan names link " + describe(l) + " (index " +
                                           std::to_string(l.index) + ") twice");
    }
  }

  std::map<int, size_t> wired;  // link index -> plan.nics position
  size_t next_tap = 0;
  for (const auto& l : scan.links) {
    const bool up = (l.flags & IFF_UP) != 0;
    if (l.flags & IFF_LOOPBACK) continue;
    if (l.kind == "tun" && up) {
      return fail(Errc::Unsupported,
                  "the network namespace already has a tun/tap device up (" + l.name +
                      "): it serves a VM or a VPN already, and a VM cannot share a namespace " +
                      "with another VM; give the container a network namespace of its own");
    }
    if (!up) {
      plan.notes.push_back(describe(l) + ": down, left out");
      continue;
    }
    if (l.type != ARPHRD_ETHER || l.mac.empty()) {
      plan.notes.push_back(describe(l) + ": not an Ethernet interface, left out");
      continue;
    }
    if (!wireable_kind(l.kind)) {
      plan.notes.push_back(describe(l) + ": kind not wired into a VM, left out");
      continue;
    }
    if (l.master != 0) {
      plan.notes.push_back(describe(l) + ": port of another interface, left out");
      continue;
    }
    if (l.mtu < kMinMtu || l.mtu > kMaxMtu) {
      return fail(Errc::Unsupported, "interface " + l.name + ": MTU " + std::to_string(l.mtu) +
                                         " outside " + std::to_string(kMinMtu) + ".." +
                                         std::to_string(kMaxMtu) + ", which a VM's NIC cannot use");
    }
    if (plan.nics.size() == kMaxNics) {
      return fail(Errc::Unsupported, "the network namespace has more than " +
                                         std::to_string(kMaxNics) +
                                         " interfaces to wire; a VM gets at most that many NICs");
    }
    NicPlan n;
    n.link = l.name;
    n.link_index = l.index;
    n.tap = free_tap_name(names, next_tap);
    n.mac = l.mac;
    n.mtu = l.mtu;
    wired[l.index] = plan.nics.size();
    plan.nics.push_back(std::move(n));
  }

  for (const auto& a : scan.addresses) {
    auto it = wired.find(a.index);
    if (it == wired.end()) continue;
    if (a.family == AF_INET6 && a.scope == RT_SCOPE_LINK) continue;  // the guest makes its own
    if (a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED)) continue;
    plan.nics[it->second].addresses.push_back({a.address, a.prefix_len});
  }

  for (const auto& r : scan.routes) {
    if (r.table != RT_TABLE_MAIN) continue;
    if (r.type != RTN_UNICAST) continue;
    if (r.protocol == RTPROT_KERNEL) continue;  // the guest kernel adds these for its addresses
    if (r.multipath) {
      plan.notes.push_back("route " + route_destination(r) +
                           ": multipath, left out (the guest gets single-path routes only)");
      continue;
    }
    auto it = wired.find(r.oif);
    if (it == wired.end()) continue;
    if (r.family == AF_INET6 && r.dst_len >= 8 && r.destination.starts_with("ff")) continue;
    if (r.family == AF_INET6 && r.destination.starts_with("fe80:")) continue;
    GuestRoute g;
    g.family = r.family;
    g.destination = route_destination(r);
    g.gateway = r.gateway;
    g.device = plan.nics[it->second].link;
    g.source = r.source;
    g.scope = r.scope;
    g.metric = r.metric;
    g.mtu = r.mtu;
    plan.routes.push_back(std::move(g));
  }
  // Routes through a gateway need the on-link route to it first: order the
  // gateway-less (link-scope) routes before the others, keeping the kernel's
  // order within each group.
  std::stable_partition(plan.routes.begin(), plan.routes.end(),
                        [](const GuestRoute& g) { return g.gateway.empty(); });

  for (const auto& n : scan.neighbours) {
    auto it = wired.find(n.index);
    if (it == wired.end()) continue;
    if (!(n.state & NUD_PERMANENT) || n.address.empty() || n.mac.empty()) continue;
    plan.neighbours.push_back({n.address, n.mac, plan.nics[it->second].link});
  }
  return plan;
}

}  // namespace hull::network
