// rtnetlink messages, built and parsed as bytes with no I/O (rtnl.h sends them).
//
// Builders make the requests the agent sends (links, addresses, routes,
// neighbours). Parsers read what the kernel answers: split a receive buffer
// into messages, check every length against the buffer, and decode the four
// object kinds the agent lists. A parser never reads outside its input and
// refuses a length that does not fit, naming the numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/net/addr.h"
#include "common/error.h"

namespace hull::agent::net {

// Builds one netlink message: nlmsghdr, then the family header, then attributes.
class NlBuilder {
 public:
  NlBuilder(uint16_t type, uint16_t flags, uint32_t seq);

  // Appends a fixed family header (ifinfomsg, ifaddrmsg, rtmsg, ndmsg), padded.
  void header(const void* h, size_t size);
  template <class T>
  void header(const T& h) {
    header(&h, sizeof h);
  }
  void attr(uint16_t type, std::span<const uint8_t> data);
  void attr_u32(uint16_t type, uint32_t v);
  void attr_u8(uint16_t type, uint8_t v);
  void attr_str(uint16_t type, std::string_view s);  // with its NUL, as the kernel wants
  void attr_ip(uint16_t type, const IpAddr& a) { attr(type, a.data()); }
  // Nested attribute: begin returns a mark for end, which fixes up the length.
  size_t begin_nest(uint16_t type);
  void end_nest(size_t mark);

  // The message with nlmsg_len filled in.
  std::vector<uint8_t> finish() &&;

 private:
  void pad();
  std::vector<uint8_t> buf_;
};

// One message inside a receive buffer; payload is everything after nlmsghdr.
struct NlMessage {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t pid = 0;
  std::span<const uint8_t> payload;
};

// Splits a datagram from a netlink socket into its messages. Invalid if a
// header or a length does not fit the buffer.
Result<std::vector<NlMessage>> split_messages(std::span<const uint8_t> buf);

// NLMSG_ERROR: the (positive) errno it carries, 0 for an ack.
Result<int> parse_error(const NlMessage& m);

struct Attr {
  uint16_t type = 0;  // NLA_F_NESTED and NLA_F_NET_BYTEORDER masked off
  std::span<const uint8_t> data;
};
// Attributes after a family header of header_size bytes.
Result<std::vector<Attr>> parse_attrs(std::span<const uint8_t> payload, size_t header_size);

struct LinkInfo {
  int index = 0;
  uint32_t flags = 0;  // IFF_*
  uint16_t type = 0;   // ARPHRD_*
  std::string name;
  std::vector<uint8_t> mac;  // IFLA_ADDRESS, empty if none
  uint32_t mtu = 0;
};
struct AddrInfo {
  int index = 0;
  uint8_t prefix_len = 0;
  uint8_t scope = 0;
  uint32_t flags = 0;  // IFA_F_*, from IFA_FLAGS when present
  IpAddr address;      // IFA_LOCAL, else IFA_ADDRESS
};
struct RouteInfo {
  int family = 0;
  uint8_t dst_len = 0;
  uint8_t tos = 0;
  uint8_t protocol = 0;
  uint8_t scope = 0;
  uint8_t type = 0;
  uint32_t table = 0;  // RTA_TABLE when present, else rtm_table
  uint32_t flags = 0;  // rtm_flags (RTNH_F_ONLINK, ...)
  IpAddr dst;          // family 0 for a default route (dst_len 0)
  IpAddr gateway;      // family 0: none
  IpAddr prefsrc;      // family 0: none
  int oif = 0;
  uint32_t priority = 0;
  uint32_t mtu = 0;  // RTAX_MTU inside RTA_METRICS
};
struct NeighInfo {
  int index = 0;
  uint16_t state = 0;  // NUD_*
  uint8_t flags = 0;   // NTF_*
  IpAddr dst;
  std::vector<uint8_t> lladdr;
};

// Decoders of one message of the matching type (RTM_NEWLINK, ...); Invalid on
// any other type, a short header or an attribute of the wrong size.
Result<LinkInfo> parse_link(const NlMessage& m);
Result<AddrInfo> parse_addr(const NlMessage& m);
Result<RouteInfo> parse_route(const NlMessage& m);
Result<NeighInfo> parse_neigh(const NlMessage& m);

// --- requests (seq is the caller's; every change asks for an ack) ---

std::vector<uint8_t> dump_request(uint16_t type, int family, uint32_t seq);

struct LinkChange {
  int index = 0;
  std::optional<std::string> name;
  std::optional<uint32_t> mtu;
  uint32_t flags = 0;   // new values of the bits in change
  uint32_t change = 0;  // IFF_* bits to set to flags' values
};
std::vector<uint8_t> set_link_request(const LinkChange& c, uint32_t seq);

// RTM_NEWADDR (create or replace) / RTM_DELADDR. IPv4 addresses get the
// broadcast address `ip addr add ... brd +` would give them; IPv6 ones are
// added with IFA_F_NODAD (the host side already owns and checked the address).
std::vector<uint8_t> new_addr_request(int index, const Prefix& p, uint32_t seq);
std::vector<uint8_t> del_addr_request(int index, const Prefix& p, uint32_t seq);

struct RouteSpec {
  Prefix dst;      // dst.addr.family is the route's family
  IpAddr gateway;  // family 0: none
  IpAddr prefsrc;  // family 0: none
  int oif = 0;     // 0: none
  uint8_t scope = 0;
  uint8_t protocol = 0;
  uint8_t type = 0;
  uint32_t table = 0;
  uint32_t priority = 0;
  uint32_t mtu = 0;
  bool onlink = false;
};
std::vector<uint8_t> new_route_request(const RouteSpec& r, uint32_t seq);
// Deletes exactly the route a dump returned (family, dst, tos, table, metric, device).
std::vector<uint8_t> del_route_request(const RouteInfo& r, uint32_t seq);

struct NeighSpec {
  int index = 0;
  IpAddr dst;
  std::vector<uint8_t> lladdr;
  uint16_t state = 0;
  uint8_t flags = 0;
};
std::vector<uint8_t> new_neigh_request(const NeighSpec& n, uint32_t seq);

}  // namespace hull::agent::net
