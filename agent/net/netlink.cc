#include "agent/net/netlink.h"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>

namespace hull::agent::net {
namespace {

constexpr size_t kAlign = 4;
constexpr size_t kMaxLinkAddrBytes = 32;  // MAX_ADDR_LEN

size_t aligned(size_t n) {
  return (n + kAlign - 1) & ~(kAlign - 1);
}

std::unexpected<Error> bad(const std::string& what) {
  return fail(Errc::Invalid, "netlink reply: " + what);
}

// Reads a fixed header from the start of a payload that was checked to be long enough.
template <class T>
T read_struct(std::span<const uint8_t> b) {
  T v{};
  // The kernel's structs are plain C data; memcpy avoids unaligned access.
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

Result<uint32_t> u32_of(const Attr& a, const char* name) {
  if (a.data.size() != 4) {
    return bad(std::string(name) + " has " + std::to_string(a.data.size()) + " bytes, want 4");
  }
  return read_struct<uint32_t>(a.data);
}

Result<IpAddr> ip_of(const Attr& a, int family, const char* name) {
  return wrap(ip_from_bytes(family, a.data), std::string("netlink reply: ") + name);
}

Result<std::string> string_of(const Attr& a, const char* name) {
  std::string_view s(reinterpret_cast<const char*>(a.data.data()),  // bytes as characters
                     a.data.size());
  s = s.substr(0, s.find('\0'));
  if (s.size() >= IFNAMSIZ) {
    return bad(std::string(name) + " is " + std::to_string(s.size()) +
               " characters, longer than an interface name");
  }
  return std::string(s);
}

Result<std::span<const uint8_t>> family_header(const NlMessage& m, uint16_t want_type, size_t size,
                                               const char* what) {
  if (m.type != want_type) {
    return bad(std::string(what) + ": message type " + std::to_string(m.type) + ", want " +
               std::to_string(want_type));
  }
  if (m.payload.size() < size) {
    return bad(std::string(what) + ": " + std::to_string(m.payload.size()) +
               " payload bytes, shorter than its " + std::to_string(size) + "-byte header");
  }
  return m.payload;
}

}  // namespace

NlBuilder::NlBuilder(uint16_t type, uint16_t flags, uint32_t seq) {
  nlmsghdr h{};
  h.nlmsg_type = type;
  h.nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST);
  h.nlmsg_seq = seq;
  header(h);
}

void NlBuilder::pad() {
  buf_.resize(aligned(buf_.size()), 0);
}

void NlBuilder::header(const void* h, size_t size) {
  const auto* p = static_cast<const uint8_t*>(h);
  buf_.insert(buf_.end(), p, p + size);
  pad();
}

void NlBuilder::attr(uint16_t type, std::span<const uint8_t> data) {
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(sizeof a + data.size());
  a.nla_type = type;
  header(&a, sizeof a);
  buf_.insert(buf_.end(), data.begin(), data.end());
  pad();
}

void NlBuilder::attr_u32(uint16_t type, uint32_t v) {
  attr(type, {reinterpret_cast<const uint8_t*>(&v), sizeof v});  // host byte order, as rtnl wants
}

void NlBuilder::attr_u8(uint16_t type, uint8_t v) {
  attr(type, {&v, 1});
}

void NlBuilder::attr_str(uint16_t type, std::string_view s) {
  std::vector<uint8_t> b(s.begin(), s.end());
  b.push_back(0);
  attr(type, b);
}

size_t NlBuilder::begin_nest(uint16_t type) {
  size_t mark = buf_.size();
  nlattr a{};
  a.nla_type = static_cast<uint16_t>(type | NLA_F_NESTED);
  header(&a, sizeof a);
  return mark;
}

void NlBuilder::end_nest(size_t mark) {
  auto len = static_cast<uint16_t>(buf_.size() - mark);
  std::memcpy(buf_.data() + mark, &len, sizeof len);  // nla_len is the first field
}

std::vector<uint8_t> NlBuilder::finish() && {
  auto len = static_cast<uint32_t>(buf_.size());
  std::memcpy(buf_.data(), &len, sizeof len);  // nlmsg_len is the first field
  return std::move(buf_);
}

Result<std::vector<NlMessage>> split_messages(std::span<const uint8_t> buf) {
  std::vector<NlMessage> out;
  size_t off = 0;
  while (off < buf.size()) {
    size_t left = buf.size() - off;
    if (left < sizeof(nlmsghdr)) {
      return bad(std::to_string(left) + " trailing bytes at offset " + std::to_string(off) +
                 ", shorter than a message header");
    }
    auto h = read_struct<nlmsghdr>(buf.subspan(off));
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > left) {
      return bad("message at offset " + std::to_string(off) + " says " +
                 std::to_string(h.nlmsg_len) + " bytes, " + std::to_string(left) + " are left");
    }
    NlMessage m;
    m.type = h.nlmsg_type;
    m.flags = h.nlmsg_flags;
    m.seq = h.nlmsg_seq;
    m.pid = h.nlmsg_pid;
    m.payload = buf.subspan(off + sizeof(nlmsghdr), h.nlmsg_len - sizeof(nlmsghdr));
    out.push_back(m);
    off += std::min(aligned(h.nlmsg_len), left);
  }
  return out;
}

Result<int> parse_error(const NlMessage& m) {
  if (m.type != NLMSG_ERROR) return bad("message type " + std::to_string(m.type) + " is no error");
  if (m.payload.size() < sizeof(int)) {
    return bad("error message of " + std::to_string(m.payload.size()) + " bytes");
  }
  int e = read_struct<int>(m.payload);
  if (e > 0 || e < -4095) return bad("error code " + std::to_string(e) + " out of range");
  return -e;
}

Result<std::vector<Attr>> parse_attrs(std::span<const uint8_t> payload, size_t header_size) {
  std::vector<Attr> out;
  size_t off = aligned(header_size);
  while (off < payload.size()) {
    size_t left = payload.size() - off;
    if (left < sizeof(nlattr)) {
      return bad(std::to_string(left) + " trailing bytes where an attribute should start");
    }
    auto a = read_struct<nlattr>(payload.subspan(off));
    if (a.nla_len < sizeof(nlattr) || a.nla_len > left) {
      return bad("attribute " + std::to_string(a.nla_type & NLA_TYPE_MASK) + " says " +
                 std::to_string(a.nla_len) + " bytes, " + std::to_string(left) + " are left");
    }
    out.push_back({static_cast<uint16_t>(a.nla_type & NLA_TYPE_MASK),
                   payload.subspan(off + sizeof(nlattr), a.nla_len - sizeof(nlattr))});
    off += std::min(aligned(a.nla_len), left);
  }
  return out;
}

Result<LinkInfo> parse_link(const NlMessage& m) {
  HULL_ASSIGN(p, family_header(m, RTM_NEWLINK, sizeof(ifinfomsg), "link"));
  auto h = read_struct<ifinfomsg>(p);
  LinkInfo l;
  l.index = h.ifi_index;
  l.flags = h.ifi_flags;
  l.type = h.ifi_type;
  HULL_ASSIGN(attrs, parse_attrs(p, sizeof(ifinfomsg)));
  for (const Attr& a : attrs) {
    if (a.type == IFLA_IFNAME) {
      HULL_ASSIGN(name, string_of(a, "IFLA_IFNAME"));
      l.name = std::move(name);
    } else if (a.type == IFLA_MTU) {
      HULL_ASSIGN(mtu, u32_of(a, "IFLA_MTU"));
      l.mtu = mtu;
    } else if (a.type == IFLA_ADDRESS) {
      if (a.data.size() > kMaxLinkAddrBytes) {
        return bad("IFLA_ADDRESS of " + std::to_string(a.data.size()) + " bytes");
      }
      l.mac.assign(a.data.begin(), a.data.end());
    }
  }
  return l;
}

Result<AddrInfo> parse_addr(const NlMessage& m) {
  HULL_ASSIGN(p, family_header(m, RTM_NEWADDR, sizeof(ifaddrmsg), "address"));
  auto h = read_struct<ifaddrmsg>(p);
  AddrInfo out;
  out.index = static_cast<int>(h.ifa_index);
  out.prefix_len = h.ifa_prefixlen;
  out.scope = h.ifa_scope;
  out.flags = h.ifa_flags;
  int max = h.ifa_family == AF_INET ? 32 : h.ifa_family == AF_INET6 ? 128 : -1;
  if (max < 0) return bad("address family " + std::to_string(h.ifa_family));
  if (h.ifa_prefixlen > max) return bad("prefix length " + std::to_string(h.ifa_prefixlen));
  HULL_ASSIGN(attrs, parse_attrs(p, sizeof(ifaddrmsg)));
  IpAddr address, local;
  for (const Attr& a : attrs) {
    if (a.type == IFA_ADDRESS) {
      HULL_ASSIGN(ip, ip_of(a, h.ifa_family, "IFA_ADDRESS"));
      address = ip;
    } else if (a.type == IFA_LOCAL) {
      HULL_ASSIGN(ip, ip_of(a, h.ifa_family, "IFA_LOCAL"));
      local = ip;
    } else if (a.type == IFA_FLAGS) {
      HULL_ASSIGN(f, u32_of(a, "IFA_FLAGS"));
      out.flags = f;
    }
  }
  out.address = local.family ? local : address;
  if (!out.address.family) return bad("address message without IFA_ADDRESS or IFA_LOCAL");
  return out;
}

Result<RouteInfo> parse_route(const NlMessage& m) {
  HULL_ASSIGN(p, family_header(m, RTM_NEWROUTE, sizeof(rtmsg), "route"));
  auto h = read_struct<rtmsg>(p);
  RouteInfo r;
  r.family = h.rtm_family;
  int max = h.rtm_family == AF_INET ? 32 : h.rtm_family == AF_INET6 ? 128 : -1;
  if (max < 0) return bad("route family " + std::to_string(h.rtm_family));
  if (h.rtm_dst_len > max) return bad("route prefix length " + std::to_string(h.rtm_dst_len));
  r.dst_len = h.rtm_dst_len;
  r.tos = h.rtm_tos;
  r.protocol = h.rtm_protocol;
  r.scope = h.rtm_scope;
  r.type = h.rtm_type;
  r.table = h.rtm_table;
  r.flags = h.rtm_flags;
  HULL_ASSIGN(attrs, parse_attrs(p, sizeof(rtmsg)));
  for (const Attr& a : attrs) {
    switch (a.type) {
      case RTA_DST: {
        HULL_ASSIGN(ip, ip_of(a, r.family, "RTA_DST"));
        r.dst = ip;
        break;
      }
      case RTA_GATEWAY: {
        HULL_ASSIGN(ip, ip_of(a, r.family, "RTA_GATEWAY"));
        r.gateway = ip;
        break;
      }
      case RTA_PREFSRC: {
        HULL_ASSIGN(ip, ip_of(a, r.family, "RTA_PREFSRC"));
        r.prefsrc = ip;
        break;
      }
      case RTA_OIF: {
        HULL_ASSIGN(v, u32_of(a, "RTA_OIF"));
        r.oif = static_cast<int>(v);
        break;
      }
      case RTA_PRIORITY: {
        HULL_ASSIGN(v, u32_of(a, "RTA_PRIORITY"));
        r.priority = v;
        break;
      }
      case RTA_TABLE: {
        HULL_ASSIGN(v, u32_of(a, "RTA_TABLE"));
        r.table = v;
        break;
      }
      case RTA_METRICS: {
        HULL_ASSIGN(metrics, parse_attrs(a.data, 0));
        for (const Attr& x : metrics) {
          if (x.type != RTAX_MTU) continue;
          HULL_ASSIGN(v, u32_of(x, "RTAX_MTU"));
          r.mtu = v;
        }
        break;
      }
      default:
        break;
    }
  }
  if (r.dst_len > 0 && !r.dst.family) return bad("route with a prefix length but no RTA_DST");
  return r;
}

Result<NeighInfo> parse_neigh(const NlMessage& m) {
  HULL_ASSIGN(p, family_header(m, RTM_NEWNEIGH, sizeof(ndmsg), "neighbour"));
  auto h = read_struct<ndmsg>(p);
  NeighInfo n;
  n.index = h.ndm_ifindex;
  n.state = h.ndm_state;
  n.flags = h.ndm_flags;
  HULL_ASSIGN(attrs, parse_attrs(p, sizeof(ndmsg)));
  for (const Attr& a : attrs) {
    if (a.type == NDA_DST) {
      HULL_ASSIGN(ip, ip_of(a, h.ndm_family, "NDA_DST"));
      n.dst = ip;
    } else if (a.type == NDA_LLADDR) {
      if (a.data.size() > kMaxLinkAddrBytes) {
        return bad("NDA_LLADDR of " + std::to_string(a.data.size()) + " bytes");
      }
      n.lladdr.assign(a.data.begin(), a.data.end());
    }
  }
  return n;
}

std::vector<uint8_t> dump_request(uint16_t type, int family, uint32_t seq) {
  NlBuilder b(type, NLM_F_DUMP, seq);
  if (type == RTM_GETLINK) {
    ifinfomsg h{};
    h.ifi_family = static_cast<unsigned char>(family);
    b.header(h);
  } else if (type == RTM_GETADDR) {
    ifaddrmsg h{};
    h.ifa_family = static_cast<uint8_t>(family);
    b.header(h);
  } else if (type == RTM_GETNEIGH) {
    ndmsg h{};
    h.ndm_family = static_cast<uint8_t>(family);
    b.header(h);
  } else {
    rtmsg h{};
    h.rtm_family = static_cast<unsigned char>(family);
    b.header(h);
  }
  return std::move(b).finish();
}

std::vector<uint8_t> set_link_request(const LinkChange& c, uint32_t seq) {
  NlBuilder b(RTM_NEWLINK, NLM_F_ACK, seq);
  ifinfomsg h{};
  h.ifi_family = AF_UNSPEC;
  h.ifi_index = c.index;
  h.ifi_flags = c.flags & c.change;
  h.ifi_change = c.change;
  b.header(h);
  if (c.name) b.attr_str(IFLA_IFNAME, *c.name);
  if (c.mtu) b.attr_u32(IFLA_MTU, *c.mtu);
  return std::move(b).finish();
}

namespace {

std::vector<uint8_t> addr_request(uint16_t type, uint16_t flags, int index, const Prefix& p,
                                  uint32_t seq) {
  NlBuilder b(type, static_cast<uint16_t>(flags | NLM_F_ACK), seq);
  ifaddrmsg h{};
  h.ifa_family = static_cast<uint8_t>(p.addr.family);
  h.ifa_prefixlen = p.len;
  h.ifa_index = static_cast<uint32_t>(index);
  if (type == RTM_NEWADDR && p.addr.family == AF_INET6) h.ifa_flags = IFA_F_NODAD;
  b.header(h);
  b.attr_ip(IFA_LOCAL, p.addr);
  b.attr_ip(IFA_ADDRESS, p.addr);
  if (type == RTM_NEWADDR) {
    IpAddr brd = broadcast_of(p.addr, p.len);
    if (brd.family) b.attr_ip(IFA_BROADCAST, brd);
    if (p.addr.family == AF_INET6) b.attr_u32(IFA_FLAGS, IFA_F_NODAD);
  }
  return std::move(b).finish();
}

}  // namespace

std::vector<uint8_t> new_addr_request(int index, const Prefix& p, uint32_t seq) {
  return addr_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, index, p, seq);
}

std::vector<uint8_t> del_addr_request(int index, const Prefix& p, uint32_t seq) {
  return addr_request(RTM_DELADDR, 0, index, p, seq);
}

std::vector<uint8_t> new_route_request(const RouteSpec& r, uint32_t seq) {
  NlBuilder b(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, seq);
  rtmsg h{};
  h.rtm_family = static_cast<unsigned char>(r.dst.addr.family);
  h.rtm_dst_len = r.dst.len;
  h.rtm_protocol = r.protocol ? r.protocol : RTPROT_BOOT;
  h.rtm_scope = r.scope;
  h.rtm_type = r.type ? r.type : static_cast<uint8_t>(RTN_UNICAST);
  uint32_t table = r.table ? r.table : static_cast<uint32_t>(RT_TABLE_MAIN);
  h.rtm_table =
      static_cast<unsigned char>(table < 256 ? table : static_cast<uint32_t>(RT_TABLE_UNSPEC));
  if (r.onlink) h.rtm_flags = RTNH_F_ONLINK;
  b.header(h);
  if (table >= 256) b.attr_u32(RTA_TABLE, table);
  if (r.dst.len > 0) b.attr_ip(RTA_DST, r.dst.addr);
  if (r.gateway.family) b.attr_ip(RTA_GATEWAY, r.gateway);
  if (r.prefsrc.family) b.attr_ip(RTA_PREFSRC, r.prefsrc);
  if (r.oif) b.attr_u32(RTA_OIF, static_cast<uint32_t>(r.oif));
  if (r.priority) b.attr_u32(RTA_PRIORITY, r.priority);
  if (r.mtu) {
    size_t mark = b.begin_nest(RTA_METRICS);
    b.attr_u32(RTAX_MTU, r.mtu);
    b.end_nest(mark);
  }
  return std::move(b).finish();
}

std::vector<uint8_t> del_route_request(const RouteInfo& r, uint32_t seq) {
  NlBuilder b(RTM_DELROUTE, NLM_F_ACK, seq);
  rtmsg h{};
  h.rtm_family = static_cast<unsigned char>(r.family);
  h.rtm_dst_len = r.dst_len;
  h.rtm_tos = r.tos;
  h.rtm_protocol = r.protocol;
  h.rtm_scope = RT_SCOPE_NOWHERE;  // any scope
  h.rtm_type = r.type;
  h.rtm_table =
      static_cast<unsigned char>(r.table < 256 ? r.table : static_cast<uint32_t>(RT_TABLE_UNSPEC));
  b.header(h);
  if (r.table >= 256) b.attr_u32(RTA_TABLE, r.table);
  if (r.dst_len > 0) b.attr_ip(RTA_DST, r.dst);
  if (r.gateway.family) b.attr_ip(RTA_GATEWAY, r.gateway);
  if (r.oif) b.attr_u32(RTA_OIF, static_cast<uint32_t>(r.oif));
  if (r.priority) b.attr_u32(RTA_PRIORITY, r.priority);
  return std::move(b).finish();
}

std::vector<uint8_t> new_neigh_request(const NeighSpec& n, uint32_t seq) {
  NlBuilder b(RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, seq);
  ndmsg h{};
  h.ndm_family = static_cast<uint8_t>(n.dst.family);
  h.ndm_ifindex = n.index;
  h.ndm_state = n.state ? n.state : static_cast<uint16_t>(NUD_PERMANENT);
  h.ndm_flags = n.flags;
  h.ndm_type = RTN_UNICAST;
  b.header(h);
  b.attr_ip(NDA_DST, n.dst);
  if (!n.lladdr.empty()) b.attr(NDA_LLADDR, n.lladdr);
  return std::move(b).finish();
}

}  // namespace hull::agent::net
