#include "runtime/network/netlink_parse.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>
#include <functional>

#include "runtime/network/limits.h"

namespace hull::network {
namespace {

// Walks the attributes in [start, start + len): each must pass libmnl's
// checks, and no bytes may be left that do not form one. `what` names the
// message or nest in errors.
Status for_each_attr(const void* start, int len, const std::string& what,
                     const std::function<Status(const nlattr*)>& fn) {
  const auto* a = static_cast<const nlattr*>(start);
  int left = len;
  while (left > 0) {
    if (!mnl_attr_ok(a, left)) {
      return fail(Errc::GuestProtocol,
                  what + ": malformed attribute (" + std::to_string(left) + " bytes left)");
    }
    HULL_TRY(fn(a));
    left -= static_cast<int>(MNL_ALIGN(a->nla_len));
    a = mnl_attr_next(a);
  }
  return {};
}

Error bad_size(const std::string& what, uint16_t type, size_t have, size_t need) {
  return Error{Errc::GuestProtocol, 0,
               what + ": attribute " + std::to_string(type) + " has " + std::to_string(have) +
                   " bytes, needs " + std::to_string(need)};
}

Result<uint32_t> attr_u32(const nlattr* a, const std::string& what) {
  uint16_t n = mnl_attr_get_payload_len(a);
  if (n < sizeof(uint32_t)) return fail(bad_size(what, mnl_attr_get_type(a), n, 4));
  uint32_t v;
  std::memcpy(&v, mnl_attr_get_payload(a), sizeof v);  // payload is 4-aligned; copy anyway
  return v;
}

// A NUL-terminated string of at most `max` bytes before the NUL.
Result<std::string> attr_string(const nlattr* a, size_t max, const std::string& what) {
  uint16_t n = mnl_attr_get_payload_len(a);
  const char* p = static_cast<const char*>(mnl_attr_get_payload(a));
  size_t len = ::strnlen(p, n);
  if (len == n) {
    return fail(Errc::GuestProtocol, what + ": attribute " + std::to_string(mnl_attr_get_type(a)) +
                                         ": string without its NUL");
  }
  if (len > max) {
    return fail(Errc::GuestProtocol, what + ": attribute " + std::to_string(mnl_attr_get_type(a)) +
                                         ": string of " + std::to_string(len) + " bytes (at most " +
                                         std::to_string(max) + ")");
  }
  return std::string(p, len);
}

Result<std::string> attr_ip(const nlattr* a, int family, const std::string& what) {
  size_t need = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
  if (need == 0) {
    return fail(Errc::GuestProtocol, what + ": address of family " + std::to_string(family));
  }
  uint16_t n = mnl_attr_get_payload_len(a);
  if (n != need) return fail(bad_size(what, mnl_attr_get_type(a), n, need));
  char buf[INET6_ADDRSTRLEN] = {};
  if (!::inet_ntop(family, mnl_attr_get_payload(a), buf, sizeof buf)) {
    return fail(Errc::Internal, what + ": inet_ntop");
  }
  return std::string(buf);
}

std::string lladdr(const nlattr* a) {
  uint16_t n = mnl_attr_get_payload_len(a);
  if (n != 6) return "";
  return format_mac({static_cast<const uint8_t*>(mnl_attr_get_payload(a)), 6});
}

template <class Header>
Result<const Header*> header_of(const nlmsghdr* nlh, const std::string& what) {
  size_t have = mnl_nlmsg_get_payload_len(nlh);
  if (have < sizeof(Header)) {
    return fail(Errc::GuestProtocol, what + ": " + std::to_string(have) +
                                         " bytes of payload, the header needs " +
                                         std::to_string(sizeof(Header)));
  }
  return static_cast<const Header*>(mnl_nlmsg_get_payload(nlh));
}

// The attributes after a fixed header of `hdr_size` bytes.
Status attrs_after(const nlmsghdr* nlh, size_t hdr_size, const std::string& what,
                   const std::function<Status(const nlattr*)>& fn) {
  size_t off = MNL_ALIGN(hdr_size);
  size_t len = mnl_nlmsg_get_payload_len(nlh);
  if (off >= len) return {};
  return for_each_attr(static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + off,
                       static_cast<int>(len - off), what, fn);
}

Result<Link> parse_link(const nlmsghdr* nlh) {
  const std::string what = "RTM_NEWLINK";
  HULL_ASSIGN(ifi, header_of<ifinfomsg>(nlh, what));
  Link l;
  l.index = ifi->ifi_index;
  l.type = ifi->ifi_type;
  l.flags = ifi->ifi_flags;
  bool named = false;
  HULL_TRY(attrs_after(nlh, sizeof(ifinfomsg), what, [&](const nlattr* a) -> Status {
    switch (mnl_attr_get_type(a)) {
      case IFLA_IFNAME: {
        HULL_ASSIGN(n, attr_string(a, IFNAMSIZ - 1, what + " IFLA_IFNAME"));
        if (n.empty()) return fail(Errc::GuestProtocol, what + ": empty interface name");
        l.name = std::move(n);
        named = true;
        break;
      }
      case IFLA_MTU: {
        HULL_ASSIGN(m, attr_u32(a, what + " IFLA_MTU"));
        l.mtu = m;
        break;
      }
      case IFLA_MASTER: {
        HULL_ASSIGN(m, attr_u32(a, what + " IFLA_MASTER"));
        l.master = static_cast<int>(m);
        break;
      }
      case IFLA_ADDRESS:
        l.mac = lladdr(a);
        break;
      case IFLA_LINKINFO:
        return for_each_attr(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a),
                             what + " IFLA_LINKINFO", [&](const nlattr* i) -> Status {
                               if (mnl_attr_get_type(i) != IFLA_INFO_KIND) return {};
                               HULL_ASSIGN(k, attr_string(i, 64, what + " IFLA_INFO_KIND"));
                               l.kind = std::move(k);
                               return {};
                             });
      default:
        break;
    }
    return {};
  }));
  if (!named) {
    return fail(Errc::GuestProtocol,
                what + ": link " + std::to_string(l.index) + " has no IFLA_IFNAME");
  }
  return l;
}

Result<Address> parse_address(const nlmsghdr* nlh) {
  const std::string what = "RTM_NEWADDR";
  HULL_ASSIGN(ifa, header_of<ifaddrmsg>(nlh, what));
  Address r;
  r.family = ifa->ifa_family;
  r.index = static_cast<int>(ifa->ifa_index);
  r.prefix_len = ifa->ifa_prefixlen;
  r.scope = ifa->ifa_scope;
  r.flags = ifa->ifa_flags;
  if (r.family != AF_INET && r.family != AF_INET6) {
    return fail(Errc::GuestProtocol, what + ": family " + std::to_string(r.family));
  }
  uint32_t max_prefix = r.family == AF_INET ? 32 : 128;
  if (r.prefix_len > max_prefix) {
    return fail(Errc::GuestProtocol, what + ": prefix length " + std::to_string(r.prefix_len) +
                                         " (at most " + std::to_string(max_prefix) + ")");
  }
  std::string address, local;
  HULL_TRY(attrs_after(nlh, sizeof(ifaddrmsg), what, [&](const nlattr* a) -> Status {
    switch (mnl_attr_get_type(a)) {
      case IFA_ADDRESS: {
        HULL_ASSIGN(s, attr_ip(a, r.family, what + " IFA_ADDRESS"));
        address = std::move(s);
        break;
      }
      case IFA_LOCAL: {
        HULL_ASSIGN(s, attr_ip(a, r.family, what + " IFA_LOCAL"));
        local = std::move(s);
        break;
      }
      case IFA_FLAGS: {
        HULL_ASSIGN(f, attr_u32(a, what + " IFA_FLAGS"));
        r.flags = f;
        break;
      }
      default:
        break;
    }
    return {};
  }));
  // IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's
  // on point-to-point links); IPv6 sends IFA_ADDRESS only.
  r.address = !local.empty() ? local : address;
  if (r.address.empty()) {
    return fail(Errc::GuestProtocol,
                what + ": address on link " + std::to_string(r.index) + " without IFA_ADDRESS");
  }
  return r;
}

Result<Route> parse_route(const nlmsghdr* nlh) {
  const std::string what = "RTM_NEWROUTE";
  HULL_ASSIGN(rtm, header_of<rtmsg>(nlh, what));
  Route r;
  r.family = rtm->rtm_family;
  r.table = rtm->rtm_table;
  r.protocol = rtm->rtm_protocol;
  r.scope = rtm->rtm_scope;
  r.type = rtm->rtm_type;
  r.dst_len = rtm->rtm_dst_len;
  if (r.family != AF_INET && r.family != AF_INET6) {
    return fail(Errc::GuestProtocol, what + ": family " + std::to_string(r.family));
  }
  uint32_t max_prefix = r.family == AF_INET ? 32 : 128;
  if (r.dst_len > max_prefix) {
    return fail(Errc::GuestProtocol, what + ": destination length " + std::to_string(r.dst_len) +
                                         " (at most " + std::to_string(max_prefix) + ")");
  }
  HULL_TRY(attrs_after(nlh, sizeof(rtmsg), what, [&](const nlattr* a) -> Status {
    switch (mnl_attr_get_type(a)) {
      case RTA_DST: {
        HULL_ASSIGN(s, attr_ip(a, r.family, what + " RTA_DST"));
        r.destination = std::move(s);
        break;
      }
      case RTA_GATEWAY: {
        HULL_ASSIGN(s, attr_ip(a, r.family, what + " RTA_GATEWAY"));
        r.gateway = std::move(s);
        break;
      }
      case RTA_PREFSRC: {
        HULL_ASSIGN(s, attr_ip(a, r.family, what + " RTA_PREFSRC"));
        r.source = std::move(s);
        break;
      }
      case RTA_OIF: {
        HULL_ASSIGN(v, attr_u32(a, what + " RTA_OIF"));
        r.oif = static_cast<int>(v);
        break;
      }
      case RTA_PRIORITY: {
        HULL_ASSIGN(v, attr_u32(a, what + " RTA_PRIORITY"));
        r.metric = v;
        break;
      }
      case RTA_TABLE: {
        HULL_ASSIGN(v, attr_u32(a, what + " RTA_TABLE"));
        r.table = v;
        break;
      }
      case RTA_MULTIPATH:
        r.multipath = true;
        break;
      case RTA_METRICS:
        return for_each_attr(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a),
                             what + " RTA_METRICS", [&](const nlattr* m) -> Status {
                               if (mnl_attr_get_type(m) != RTAX_MTU) return {};
                               HULL_ASSIGN(v, attr_u32(m, what + " RTAX_MTU"));
                               r.mtu = v;
                               return {};
                             });
      default:
        break;
    }
    return {};
  }));
  if (r.dst_len > 0 && r.destination.empty()) {
    return fail(Errc::GuestProtocol,
                what + ": destination length " + std::to_string(r.dst_len) + " without RTA_DST");
  }
  return r;
}

Result<Neighbour> parse_neighbour(const nlmsghdr* nlh) {
  const std::string what = "RTM_NEWNEIGH";
  HULL_ASSIGN(ndm, header_of<ndmsg>(nlh, what));
  Neighbour n;
  n.family = ndm->ndm_family;
  n.index = ndm->ndm_ifindex;
  n.state = ndm->ndm_state;
  bool ip = n.family == AF_INET || n.family == AF_INET6;
  HULL_TRY(attrs_after(nlh, sizeof(ndmsg), what, [&](const nlattr* a) -> Status {
    switch (mnl_attr_get_type(a)) {
      case NDA_DST:
        if (ip) {
          HULL_ASSIGN(s, attr_ip(a, n.family, what + " NDA_DST"));
          n.address = std::move(s);
        }
        break;
      case NDA_LLADDR:
        n.mac = lladdr(a);
        break;
      default:
        break;
    }
    return {};
  }));
  return n;
}

// The kernel's NLMSG_ERROR payload: errno 0 is an acknowledgement.
Result<int> error_code(const nlmsghdr* nlh) {
  HULL_ASSIGN(e, header_of<nlmsgerr>(nlh, "NLMSG_ERROR"));
  if (e->error > 0 || e->error < -4095) {
    return fail(Errc::GuestProtocol, "NLMSG_ERROR with error " + std::to_string(e->error));
  }
  return -e->error;
}

// Copies the datagram into aligned memory (the caller's buffer may start
// anywhere; netlink structs need 4-byte alignment) and walks its messages.
Status for_each_message(std::span<const std::byte> datagram, uint32_t seq,
                        const std::function<Status(const nlmsghdr*)>& fn) {
  if (datagram.size() > kNetlinkBufferBytes) {
    return fail(Errc::GuestProtocol, "netlink datagram of " + std::to_string(datagram.size()) +
                                         " bytes (at most " + std::to_string(kNetlinkBufferBytes) +
                                         ")");
  }
  std::vector<uint64_t> aligned((datagram.size() + 7) / 8);
  if (!datagram.empty()) std::memcpy(aligned.data(), datagram.data(), datagram.size());
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(aligned.data());  // aligned copy
  int left = static_cast<int>(datagram.size());
  if (left == 0) return fail(Errc::GuestProtocol, "empty netlink datagram");
  while (left > 0) {
    // libmnl's mnl_nlmsg_ok compares the length as an int: a length of 2^31
    // or more passes it. Checked here unsigned.
    if (static_cast<size_t>(left) < sizeof(nlmsghdr) || nlh->nlmsg_len < sizeof(nlmsghdr) ||
        nlh->nlmsg_len > static_cast<uint32_t>(left)) {
      return fail(Errc::GuestProtocol,
                  "malformed netlink message (" + std::to_string(left) + " bytes left)");
    }
    if (nlh->nlmsg_seq != seq) {
      return fail(Errc::GuestProtocol, "netlink message for request " +
                                           std::to_string(nlh->nlmsg_seq) + ", expected " +
                                           std::to_string(seq));
    }
    HULL_TRY(fn(nlh));
    nlh = mnl_nlmsg_next(nlh, &left);
  }
  return {};
}

}  // namespace

Result<DumpBatch> parse_dump(std::span<const std::byte> datagram, uint32_t seq) {
  DumpBatch b;
  HULL_TRY(for_each_message(datagram, seq, [&](const nlmsghdr* nlh) -> Status {
    if (b.done) return fail(Errc::GuestProtocol, "netlink message after NLMSG_DONE");
    switch (nlh->nlmsg_type) {
      case NLMSG_DONE:
        b.done = true;
        return {};
      case NLMSG_ERROR: {
        HULL_ASSIGN(err, error_code(nlh));
        return fail_errno("the kernel refused the dump", err == 0 ? EPROTO : err);
      }
      case RTM_NEWLINK: {
        HULL_ASSIGN(l, parse_link(nlh));
        b.links.push_back(std::move(l));
        return {};
      }
      case RTM_NEWADDR: {
        HULL_ASSIGN(a, parse_address(nlh));
        b.addresses.push_back(std::move(a));
        return {};
      }
      case RTM_NEWROUTE: {
        HULL_ASSIGN(r, parse_route(nlh));
        b.routes.push_back(std::move(r));
        return {};
      }
      case RTM_NEWNEIGH: {
        HULL_ASSIGN(n, parse_neighbour(nlh));
        b.neighbours.push_back(std::move(n));
        return {};
      }
      default:
        ++b.skipped;
        return {};
    }
  }));
  return b;
}

Status parse_ack(std::span<const std::byte> datagram, uint32_t seq) {
  bool acked = false;
  HULL_TRY(for_each_message(datagram, seq, [&](const nlmsghdr* nlh) -> Status {
    if (nlh->nlmsg_type != NLMSG_ERROR) {
      return fail(Errc::GuestProtocol, "netlink message of type " +
                                           std::to_string(nlh->nlmsg_type) +
                                           " where an acknowledgement was expected");
    }
    HULL_ASSIGN(err, error_code(nlh));
    if (err != 0) return fail_errno("the kernel refused the request", err);
    acked = true;
    return {};
  }));
  if (!acked) return fail(Errc::GuestProtocol, "netlink reply without an acknowledgement");
  return {};
}

}  // namespace hull::network
