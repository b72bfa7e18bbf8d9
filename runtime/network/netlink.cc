#include "runtime/network/netlink.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>

#include "runtime/network/limits.h"

namespace hull::network {
namespace {

// Room for any request hull builds (the largest, a filter, is ~150 bytes).
constexpr size_t kRequestBytes = 1024;

// A request under construction in an aligned buffer (libmnl writes structs).
class Builder {
 public:
  Builder(uint16_t type, uint16_t flags, uint32_t seq) : buf_(kRequestBytes / 8) {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    nlh_->nlmsg_seq = seq;
  }
  template <class T>
  T* header() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
  }
  nlmsghdr* nlh() { return nlh_; }
  Bytes bytes() const {
    const auto* p = reinterpret_cast<const std::byte*>(buf_.data());  // the message's bytes
    return Bytes(p, p + nlh_->nlmsg_len);
  }

 private:
  std::vector<uint64_t> buf_;
  nlmsghdr* nlh_;
};

tcmsg* tc_header(Builder& b, int index, uint32_t handle, uint32_t parent, uint32_t info) {
  auto* t = b.header<tcmsg>();
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = index;
  t->tcm_handle = handle;
  t->tcm_parent = parent;
  t->tcm_info = info;
  return t;
}

constexpr uint32_t kIngressHandle = 0xffff0000U;  // ffff:

}  // namespace

Bytes build_dump(uint16_t type, uint32_t seq) {
  Builder b(type, NLM_F_DUMP, seq);
  switch (type) {
    case RTM_GETLINK:
      b.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
      break;
    case RTM_GETADDR:
      b.header<ifaddrmsg>()->ifa_family = AF_UNSPEC;
      break;
    case RTM_GETROUTE:
      b.header<rtmsg>()->rtm_family = AF_UNSPEC;
      break;
    default:
      b.header<ndmsg>()->ndm_family = AF_UNSPEC;
      break;
  }
  return b.bytes();
}

Bytes build_link_up(uint32_t seq, int index, uint32_t mtu) {
  Builder b(RTM_NEWLINK, NLM_F_ACK, seq);
  auto* ifi = b.header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  mnl_attr_put_u32(b.nlh(), IFLA_MTU, mtu);
  return b.bytes();
}

Bytes build_link_delete(uint32_t seq, int index) {
  Builder b(RTM_DELLINK, NLM_F_ACK, seq);
  auto* ifi = b.header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return b.bytes();
}

Bytes build_ingress_qdisc(uint32_t seq, int index, bool add) {
  Builder b(add ? RTM_NEWQDISC : RTM_DELQDISC,
            static_cast<uint16_t>(NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0)), seq);
  tc_header(b, index, kIngressHandle, TC_H_INGRESS, 0);
  mnl_attr_put_strz(b.nlh(), TCA_KIND, "ingress");
  return b.bytes();
}

Bytes build_redirect_filter(uint32_t seq, int from, int to) {
  Builder b(RTM_NEWTFILTER, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
  constexpr uint32_t kPrio = 1;
  tc_header(b, from, 0, kIngressHandle, TC_H_MAKE(kPrio << 16, htons(ETH_P_ALL)));
  mnl_attr_put_strz(b.nlh(), TCA_KIND, "u32");
  nlattr* options = mnl_attr_nest_start(b.nlh(), TCA_OPTIONS);
  // One key that matches every packet: 0 under mask 0 at offset 0.
  tc_u32_sel sel{};
  sel.flags = TC_U32_TERMINAL;
  sel.nkeys = 1;
  tc_u32_key key{};
  std::byte raw[sizeof sel + sizeof key] = {};
  std::memcpy(raw, &sel, sizeof sel);  // the selector, then its one key, as the kernel reads them
  std::memcpy(raw + sizeof sel, &key, sizeof key);
  mnl_attr_put(b.nlh(), TCA_U32_SEL, sizeof raw, raw);
  nlattr* acts = mnl_attr_nest_start(b.nlh(), TCA_U32_ACT);
  nlattr* act = mnl_attr_nest_start(b.nlh(), 1);  // the first action of the list
  mnl_attr_put_strz(b.nlh(), TCA_ACT_KIND, "mirred");
  nlattr* act_opts = mnl_attr_nest_start(b.nlh(), TCA_ACT_OPTIONS);
  tc_mirred m{};
  m.action = TC_ACT_STOLEN;
  m.eaction = TCA_EGRESS_REDIR;
  m.ifindex = static_cast<uint32_t>(to);
  mnl_attr_put(b.nlh(), TCA_MIRRED_PARMS, sizeof m, &m);
  mnl_attr_nest_end(b.nlh(), act_opts);
  mnl_attr_nest_end(b.nlh(), act);
  mnl_attr_nest_end(b.nlh(), acts);
  mnl_attr_nest_end(b.nlh(), options);
  return b.bytes();
}

Result<NetlinkSocket> NetlinkSocket::open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!s) return fail_errno("opening a netlink socket");
  NetlinkSocket ns(s);
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) return fail_errno("binding a netlink socket");
  timeval tv{kNetlinkTimeoutMs / 1000, (kNetlinkTimeoutMs % 1000) * 1000};
  if (::setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    return fail_errno("setting a netlink socket's timeout");
  }
  return ns;
}

NetlinkSocket::~NetlinkSocket() {
  if (sock_) mnl_socket_close(sock_);
}

NetlinkSocket::NetlinkSocket(NetlinkSocket&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)), seq_(o.seq_) {}

Status NetlinkSocket::send(const Bytes& msg) {
  if (mnl_socket_sendto(sock_, msg.data(), msg.size()) < 0) return fail_errno("netlink send");
  return {};
}

Result<Bytes> NetlinkSocket::receive() {
  Bytes buf(kNetlinkBufferBytes);
  for (;;) {
    ssize_t n = ::recv(mnl_socket_get_fd(sock_), buf.data(), buf.size(), MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return fail(Errc::Timeout, "the kernel did not answer a netlink request within " +
                                     std::to_string(kNetlinkTimeoutMs) + " ms");
    }
    if (n < 0) return fail_errno("netlink receive");
    if (static_cast<size_t>(n) > buf.size()) {
      return fail(Errc::GuestProtocol, "netlink datagram of " + std::to_string(n) +
                                           " bytes (at most " + std::to_string(buf.size()) + ")");
    }
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
}

Status NetlinkSocket::request(const Bytes& msg, uint32_t seq) {
  HULL_TRY(send(msg));
  HULL_ASSIGN(reply, receive());
  return parse_ack(reply, seq);
}

Status NetlinkSocket::dump(uint16_t type, Scan& into, size_t& bytes) {
  uint32_t seq = next_seq();
  HULL_TRY(send(build_dump(type, seq)));
  for (;;) {
    HULL_ASSIGN(d, receive());
    bytes += d.size();
    if (bytes > kMaxDumpBytes) {
      return fail(Errc::GuestProtocol,
                  "the namespace's dump exceeds " + std::to_string(kMaxDumpBytes) + " bytes");
    }
    HULL_ASSIGN(batch, parse_dump(d, seq));
    auto append = [](auto& to, auto& from) {
      to.insert(to.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
    };
    append(into.links, batch.links);
    append(into.addresses, batch.addresses);
    append(into.routes, batch.routes);
    append(into.neighbours, batch.neighbours);
    if (into.links.size() > kMaxLinks || into.addresses.size() > kMaxAddresses ||
        into.routes.size() > kMaxRoutes || into.neighbours.size() > kMaxNeighbours) {
      return fail(Errc::GuestProtocol,
                  "the network namespace holds more links, addresses, "
                  "routes or neighbours than hull scans");
    }
    if (batch.done) return {};
  }
}

Result<Scan> NetlinkSocket::scan() {
  Scan s;
  size_t bytes = 0;
  HULL_TRY(wrap(dump(RTM_GETLINK, s, bytes), "listing the interfaces"));
  HULL_TRY(wrap(dump(RTM_GETADDR, s, bytes), "listing the addresses"));
  HULL_TRY(wrap(dump(RTM_GETROUTE, s, bytes), "listing the routes"));
  HULL_TRY(wrap(dump(RTM_GETNEIGH, s, bytes), "listing the neighbours"));
  return s;
}

}  // namespace hull::network
