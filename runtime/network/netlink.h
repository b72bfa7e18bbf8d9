// rtnetlink requests hull sends in a container's network namespace: the
// message builders are pure (bytes out, unit-tested by parsing them back),
// NetlinkSocket sends them from the calling thread's namespace (a netlink
// socket belongs to the namespace it was opened in) and checks the replies
// with netlink_parse.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>

#include "common/error.h"
#include "runtime/network/netlink_parse.h"
#include "runtime/network/plan.h"

namespace hull::network {

using Bytes = std::vector<std::byte>;

// RTM_GETLINK / RTM_GETADDR / RTM_GETROUTE / RTM_GETNEIGH dump of every family.
Bytes build_dump(uint16_t type, uint32_t seq);
// MTU and IFF_UP of link `index`.
Bytes build_link_up(uint32_t seq, int index, uint32_t mtu);
Bytes build_link_delete(uint32_t seq, int index);
// The ingress qdisc (handle ffff:) of link `index`, added (fails if there is
// one) or deleted (with its filters).
Bytes build_ingress_qdisc(uint32_t seq, int index, bool add);
// On link `from`'s ingress: protocol all, u32 match-all, action mirred egress
// redirect to link `to` (tc's `u32 match u8 0 0 action mirred egress
// redirect dev <to>`).
Bytes build_redirect_filter(uint32_t seq, int from, int to);

class NetlinkSocket {
 public:
  // A NETLINK_ROUTE socket in the calling thread's network namespace.
  static Result<NetlinkSocket> open();
  ~NetlinkSocket();
  NetlinkSocket(NetlinkSocket&& o) noexcept;
  NetlinkSocket& operator=(NetlinkSocket&&) = delete;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  uint32_t next_seq() { return ++seq_; }
  // Sends a request built with NLM_F_ACK and waits for its acknowledgement.
  Status request(const Bytes& msg, uint32_t seq);
  // Links, addresses, routes and neighbours of the namespace.
  Result<Scan> scan();

 private:
  explicit NetlinkSocket(mnl_socket* s) : sock_(s) {}
  Status send(const Bytes& msg);
  Result<Bytes> receive();
  Status dump(uint16_t type, Scan& into, size_t& bytes);

  mnl_socket* sock_ = nullptr;
  uint32_t seq_ = 0;
};

}  // namespace hull::network
