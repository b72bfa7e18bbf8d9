// libFuzzer target for the netlink reply parser (runtime/network/netlink_parse.h):
// what a network namespace's contents can make the kernel send hull, and
// beyond (any bytes). Each input is one datagram, parsed as a dump reply and
// as an acknowledgement; whatever parses is then planned
// (runtime/network/plan.h), whose promises are checked: every wired NIC has a
// MAC, an MTU in range and a tap name that fits IFNAMSIZ.
#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/network/limits.h"
#include "runtime/network/netlink_parse.h"
#include "runtime/network/plan.h"

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hull::network;
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  uint32_t seq = size >= 12 ? static_cast<uint32_t>(data[8] | data[9] << 8 | data[10] << 16 |
                                                    static_cast<uint32_t>(data[11]) << 24)
                            : 0;
  (void)parse_ack(bytes, seq);
  auto b = parse_dump(bytes, seq);
  if (!b) return 0;
  Scan s{b->links, b->addresses, b->routes, b->neighbours};
  auto p = plan_network(s);
  if (!p) return 0;
  require(p->nics.size() <= kMaxNics);
  for (const auto& n : p->nics) {
    require(hull::parse_mac(n.mac).has_value());
    require(n.mtu >= kMinMtu && n.mtu <= kMaxMtu);
    require(!n.tap.empty() && n.tap.size() < 16);
  }
  return 0;
}
