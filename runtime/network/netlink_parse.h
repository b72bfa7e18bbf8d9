// Parsing rtnetlink dump replies (links, addresses, routes, neighbours) into
// plain structs, as pure functions: no I/O, no logging, no globals.
//
// What a namespace holds was put there by someone else (docker, a CNI plugin,
// a hook): every message and attribute is checked before it is read (libmnl's
// length checks plus the size each attribute type needs), and a message that
// breaks the format is an error naming the message type, the attribute and
// the sizes, never a silent stop. Messages of other types in a batch
// (NLMSG_NOOP, or ones this scan does not ask for) are skipped and counted.
//
// tests/unit/runtime/network/netlink_parse_test.cc covers each error and
// tests/fuzz/netlink_fuzz.cc feeds arbitrary datagrams.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/mac.h"

namespace hull::network {

struct Link {
  int index = 0;
  std::string name;
  std::string kind;    // IFLA_INFO_KIND: "veth", "macvlan", "tun", ... ("" for none)
  uint16_t type = 0;   // ARPHRD_*
  uint32_t flags = 0;  // IFF_*
  uint32_t mtu = 0;
  std::string mac;  // "aa:bb:cc:dd:ee:ff" for 6-byte addresses, else ""
  int master = 0;   // IFLA_MASTER (a bridge or bond it is a port of), 0: none
};

struct Address {
  int family = 0;  // AF_INET or AF_INET6
  int index = 0;   // the link
  std::string address;
  uint32_t prefix_len = 0;
  uint8_t scope = 0;   // RT_SCOPE_*
  uint32_t flags = 0;  // IFA_F_* (IFA_FLAGS when present)
};

struct Route {
  int family = 0;
  uint32_t table = 0;
  uint8_t protocol = 0;     // RTPROT_*
  uint8_t scope = 0;        // RT_SCOPE_*
  uint8_t type = 0;         // RTN_*
  std::string destination;  // "" for the default route
  uint32_t dst_len = 0;
  std::string gateway;
  std::string source;  // RTA_PREFSRC
  int oif = 0;
  uint32_t metric = 0;  // RTA_PRIORITY
  uint32_t mtu = 0;     // RTAX_MTU, 0: none
  bool multipath = false;
};

struct Neighbour {
  int family = 0;
  int index = 0;
  std::string address;
  std::string mac;     // "" when it has no link-layer address
  uint16_t state = 0;  // NUD_*
};

// What one datagram of a dump reply carried.
struct DumpBatch {
  std::vector<Link> links;
  std::vector<Address> addresses;
  std::vector<Route> routes;
  std::vector<Neighbour> neighbours;
  size_t skipped = 0;  // messages of other types
  bool done = false;   // NLMSG_DONE seen: the dump is complete
};

// One datagram of a reply to the dump request numbered `seq`. Errors:
// GuestProtocol for a malformed message or attribute, or one with another
// sequence number; System (sys_errno set) for an NLMSG_ERROR the kernel sent.
Result<DumpBatch> parse_dump(std::span<const std::byte> datagram, uint32_t seq);

// An acknowledgement (NLMSG_ERROR with error 0) for request `seq`, or the
// error the kernel reported for it (Errc::System with its errno).
Status parse_ack(std::span<const std::byte> datagram, uint32_t seq);

}  // namespace hull::network
