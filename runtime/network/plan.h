// From what a container's network namespace holds to what hull makes of it:
// a pure function (no I/O) from a Scan to a Plan.
//
//   Scan: links, addresses, routes, neighbours (netlink_parse.h)
//   Plan: per wired interface a tap (name, MTU) and the guest NIC (MAC, MTU,
//         name, addresses); the guest's routes; what was left out and why.
//
// Which interfaces are wired: every link that is up, has an Ethernet
// link-layer address (ARPHRD_ETHER, 6-byte MAC), is no port of a bridge or
// bond, and whose kind is one a container is given: veth, macvlan, ipvlan,
// vlan, macvtap, dummy, or none (a physical NIC moved in). Loopback, down
// links (the kernel's tunnel fallback devices tunl0, sit0, gre0, ... that
// appear in every namespace) and other kinds are left out, each with a note.
// A tun/tap that is up means the namespace already serves a VM (another
// container's, `--network container:X`): refused.
//
// What the guest gets: the interface's name, MAC and MTU, its addresses
// except IPv6 link-local ones (the guest derives the same from the same MAC)
// and tentative/deprecated ones, and the main table's routes through wired
// interfaces except those the kernel adds by itself for an address
// (protocol "kernel") and IPv6 multicast/link-local routes; multipath
// routes are left out with a note.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/network/netlink_parse.h"

namespace hull::network {

struct Scan {
  std::vector<Link> links;
  std::vector<Address> addresses;
  std::vector<Route> routes;
  std::vector<Neighbour> neighbours;
};

struct GuestAddress {
  std::string address;
  uint32_t prefix_len = 0;
};

struct NicPlan {
  std::string link;  // the interface in the namespace ("eth0")
  int link_index = 0;
  std::string tap;   // the tap hull creates beside it ("hulltap0")
  std::string mac;   // the guest NIC's MAC = the interface's
  uint32_t mtu = 0;  // tap, guest NIC (host_mtu) and guest interface
  std::vector<GuestAddress> addresses;
};

struct GuestRoute {
  int family = 0;
  std::string destination;  // "default" (IPv4), "::/0" (IPv6), or "<addr>/<len>"
  std::string gateway;      // "" for an on-link route
  std::string device;       // the guest interface's name
  std::string source;
  uint32_t scope = 0;
  uint32_t metric = 0;
  uint32_t mtu = 0;
};

struct GuestNeighbour {
  std::string address;
  std::string mac;
  std::string device;
};

struct Plan {
  std::vector<NicPlan> nics;
  std::vector<GuestRoute> routes;
  std::vector<GuestNeighbour> neighbours;  // permanent entries on wired interfaces
  std::vector<std::string> notes;          // what was left out, and why
};

// Errors (Errc::Unsupported unless said): a tun/tap that is up (the namespace
// already serves a VM); more than kMaxNics interfaces to wire; a wired
// interface with an MTU outside kMinMtu..kMaxMtu; a scan over the limits
// (Errc::GuestProtocol).
Result<Plan> plan_network(const Scan& scan);

// The IPv4 default is "default", IPv6's "::/0", others "<addr>/<len>".
std::string route_destination(const Route& r);

}  // namespace hull::network
