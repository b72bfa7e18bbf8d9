// libFuzzer target for the agent's rtnetlink reply parsers (agent/net/netlink.h):
// a receive buffer split into messages, each decoded as every object kind and
// as an error. Whatever a parser accepts must keep its promises (lengths in
// range, addresses of the message's family): a broken promise traps.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "agent/net/netlink.h"

namespace {

using namespace hull::agent::net;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool sized(const IpAddr& a) {
  return a.family == 0 || a.size() == 4 || a.size() == 16;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> buf(data, size);
  auto msgs = split_messages(buf);
  if (!msgs) return 0;
  size_t total = 0;
  for (const NlMessage& m : *msgs) {
    require(m.payload.data() >= data && m.payload.data() + m.payload.size() <= data + size);
    total += m.payload.size();
    // Every decoder sees every message (the type check is part of what is tested).
    NlMessage as = m;
    for (uint16_t type : {m.type, uint16_t{16}, uint16_t{20}, uint16_t{24}, uint16_t{28}}) {
      as.type = type;
      if (auto l = parse_link(as)) {
        require(l->name.size() < 16 && l->mac.size() <= 32);
      }
      if (auto a = parse_addr(as)) {
        require(a->address.family != 0 && sized(a->address));
        require(a->prefix_len <= (a->address.family == AF_INET ? 32 : 128));
      }
      if (auto r = parse_route(as)) {
        require(r->family == AF_INET || r->family == AF_INET6);
        require(r->dst_len <= (r->family == AF_INET ? 32 : 128));
        require(sized(r->dst) && sized(r->gateway) && sized(r->prefsrc));
        require(r->dst.family == 0 || r->dst.family == r->family);
      }
      if (auto n = parse_neigh(as)) {
        require(sized(n->dst) && n->lladdr.size() <= 32);
        hull::format_mac(n->lladdr);
        format_ip(n->dst);
      }
    }
    if (auto e = parse_error(m)) require(*e >= 0 && *e <= 4095);
    if (auto attrs = parse_attrs(m.payload, 0)) {
      for (const Attr& a : *attrs) {
        require(a.data.data() >= m.payload.data() &&
                a.data.data() + a.data.size() <= m.payload.data() + m.payload.size());
      }
    }
  }
  require(total <= size);
  return 0;
}
