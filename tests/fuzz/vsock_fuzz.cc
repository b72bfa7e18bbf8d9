// libFuzzer target for hull-vsock's guest-facing parsers: the split-ring
// chain walk over fuzzer-written guest memory, the vsock packet reader and
// writer, the connection state machine, the vhost-user message parsers and
// the CONNECT line. Only hull_vsock_core code runs here (no I/O).
//
// Input layout: byte 0 picks the queue size (1..32) and byte 1 the features;
// the rest (avail ring at gpa 0, descriptors at 0x50) fills two guest memory regions with a hole
// between them, so descriptors may point into the hole, across the regions or outside them. The
// same bytes are also fed to the vhost-user and CONNECT parsers.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/vsock/connect_line.h"
#include "runtime/vsock/connection.h"
#include "runtime/vsock/guest_memory.h"
#include "runtime/vsock/limits.h"
#include "runtime/vsock/packet.h"
#include "runtime/vsock/vhost_user_msg.h"
#include "runtime/vsock/virtq.h"

namespace {

using namespace hull::vsock;

constexpr uint64_t kRegionA = 0x0;
constexpr uint64_t kRegionB = 0x3000;
constexpr size_t kRegionSize = 0x2000;
// Driver-owned rings first so short inputs already describe chains; the used
// ring (device-owned) lives in region B, away from the input bytes.
constexpr uint64_t kAvailGpa = 0x0;  // 6 + 2*32 bytes at most
constexpr uint64_t kDescGpa = 0x50;  // 16 * 32 bytes at most
constexpr uint64_t kUsedGpa = kRegionB + 0x1800;

void fuzz_rings(const uint8_t* data, size_t size) {
  if (size < 2) return;
  // Fresh, zeroed memory each run; regions copied in from the input.
  static std::vector<std::byte> ram_a(kRegionSize), ram_b(kRegionSize);
  std::memset(ram_a.data(), 0, kRegionSize);
  std::memset(ram_b.data(), 0, kRegionSize);
  const size_t body = size - 2;
  std::memcpy(ram_a.data(), data + 2, std::min(body, kRegionSize));
  if (body > kRegionSize)
    std::memcpy(ram_b.data(), data + 2 + kRegionSize, std::min(body - kRegionSize, kRegionSize));

  GuestMemory mem;
  if (!mem.add_region({kRegionA, kRegionSize, 0x7f0000000000, ram_a.data()})) __builtin_trap();
  if (!mem.add_region({kRegionB, kRegionSize, 0x7f0000010000, ram_b.data()})) __builtin_trap();

  virtq::QueueSetup setup;
  setup.size = 1U << (data[0] % 6);
  setup.desc_gpa = kDescGpa;
  setup.avail_gpa = kAvailGpa;
  setup.used_gpa = kUsedGpa;
  setup.event_idx = (data[1] & 1) != 0;
  setup.indirect = (data[1] & 2) != 0;
  const bool as_rx = (data[1] & 4) != 0;
  auto q = virtq::SplitQueue::create(mem, setup, static_cast<uint16_t>(data[1] >> 3));
  if (!q) return;

  virtq::Chain chain;
  std::vector<std::byte> payload;
  Connection conn = Connection::host_initiated({1U << 30, 1024}, 3, limits::kConnBufAlloc);
  for (int i = 0; i < 64; ++i) {
    const virtq::PopResult r = q->pop(chain);
    if (r.kind == virtq::PopKind::Empty || r.kind == virtq::PopKind::RingBroken) break;
    if (r.kind == virtq::PopKind::BadChain) {
      if (r.head_valid) q->add_used(chain.head, 0);
      continue;
    }
    // Everything a chain claims must be inside guest memory.
    for (const virtq::Segment& s : chain.segments) {
      const bool in_a =
          s.mem.data() >= ram_a.data() && s.mem.data() + s.mem.size() <= ram_a.data() + kRegionSize;
      const bool in_b =
          s.mem.data() >= ram_b.data() && s.mem.data() + s.mem.size() <= ram_b.data() + kRegionSize;
      if (!in_a && !in_b) __builtin_trap();
    }
    if (as_rx) {
      auto room = packet::rx_payload_room(chain);
      uint32_t used = 0;
      if (room) {
        std::vector<std::byte> bytes(std::min<uint32_t>(*room, 100), std::byte{0x5a});
        auto w = packet::write_rx(chain, conn.make_rw(static_cast<uint32_t>(bytes.size())), bytes);
        if (w) used = *w;
      }
      q->add_used(chain.head, used);
    } else {
      auto h = packet::read_tx(chain, payload);
      q->add_used(chain.head, 0);
      if (!h) continue;
      if (payload.size() != h->len) __builtin_trap();
      if (!packet::validate_tx(*h, 3)) continue;
      auto ev = conn.on_packet(*h);
      if (ev && *ev == ConnEvent::Payload) conn.host_flushed(h->len);
      while (conn.has_control()) (void)conn.take_control();
      if (conn.wants_host_read()) (void)conn.make_rw(std::min<uint32_t>(conn.peer_free(), 4096));
    }
  }
  (void)q->needs_notify();
}

void fuzz_vhost_user(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  if (bytes.size() < limits::kVhostUserHeaderSize + 1) return;
  const size_t nfds = static_cast<uint8_t>(bytes[0]) % (limits::kMaxVhostUserFds + 1);
  auto hdr = vhost::parse_header(bytes.subspan(1, limits::kVhostUserHeaderSize));
  if (!hdr) return;
  const auto rest = bytes.subspan(1 + limits::kVhostUserHeaderSize);
  const auto payload = rest.first(std::min<size_t>(rest.size(), hdr->size));
  (void)vhost::parse_u64(hdr->request, payload);
  (void)vhost::parse_vring_state(hdr->request, payload, limits::kNumQueues);
  (void)vhost::parse_vring_addr(payload, limits::kNumQueues);
  (void)vhost::parse_vring_file(hdr->request, payload, nfds, limits::kNumQueues);
  if (auto regions = vhost::parse_mem_table(payload, nfds); regions) {
    GuestMemory m;
    static std::byte dummy[1];
    for (const auto& r : *regions) (void)m.add_region({r.gpa, r.size, r.uaddr, dummy});
    (void)m.uaddr_to_gpa(0x7f0000000000, 64);
  }
  if (auto c = vhost::parse_config(payload); c && c->size > payload.size()) __builtin_trap();
}

void fuzz_connect_line(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), std::min<size_t>(size, 64));
  (void)parse_connect_line(line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_rings(data, size);
  fuzz_vhost_user(data, size);
  fuzz_connect_line(data, size);
  return 0;
}
