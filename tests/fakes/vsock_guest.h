// Fakes for hull-vsock tests: guest RAM in a memfd laid out like QEMU's
// microvm (region 0 below the 0xf0000 BIOS hole, region 1 from 1 MiB), a
// fake virtio driver that writes descriptors and avail entries into it, and a
// fake vhost-user front end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "runtime/vsock/guest_memory.h"
#include "runtime/vsock/packet.h"
#include "runtime/vsock/vhost_user_msg.h"

namespace hull::vsock::testing {

class FakeGuestRam {
 public:
  static constexpr uint64_t kRegion0Size = 0xf0000;
  static constexpr uint64_t kRegion1Gpa = 0x100000;

  explicit FakeGuestRam(uint64_t region1_size = 4 << 20);
  ~FakeGuestRam();
  FakeGuestRam(const FakeGuestRam&) = delete;

  int fd() const { return fd_.get(); }
  std::byte* host(uint64_t gpa) const { return base_ + gpa; }
  uint64_t uaddr(uint64_t gpa) const { return reinterpret_cast<uint64_t>(base_ + gpa); }
  // A GuestMemory over our own mapping (uaddr = our address, as for QEMU).
  GuestMemory memory() const;
  std::vector<vhost::RegionDesc> regions() const;
  // Bump allocator in region 1.
  uint64_t alloc(uint64_t len, uint64_t align = 16);
  void write(uint64_t gpa, std::span<const std::byte> bytes) const;
  std::vector<std::byte> read(uint64_t gpa, size_t len) const;

 private:
  UniqueFd fd_;
  std::byte* base_ = nullptr;
  uint64_t total_ = 0;
  uint64_t next_ = kRegion1Gpa;
};

// The driver side of one split ring.
class FakeDriver {
 public:
  FakeDriver(FakeGuestRam& ram, uint16_t size);

  uint16_t size() const { return size_; }
  uint64_t desc_gpa() const { return desc_; }
  uint64_t avail_gpa() const { return avail_; }
  uint64_t used_gpa() const { return used_; }

  void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
  // Writes an indirect table of `entries` {addr, len, flags, next} at a fresh gpa.
  uint64_t make_table(const std::vector<std::array<uint64_t, 4>>& entries);
  void make_avail(uint16_t head);    // appends head and bumps avail.idx
  void set_avail_idx(uint16_t idx);  // raw store (for corruption tests)
  void set_avail_flags(uint16_t f);
  void set_used_event(uint16_t v);
  uint16_t avail_event() const;
  uint16_t used_idx() const;
  std::pair<uint32_t, uint32_t> used_elem(uint16_t i) const;  // {id, len}

  // Posts one device-writable buffer of `len` bytes (rx); returns its head.
  uint16_t post_rx(uint32_t len);
  // Posts a tx packet: header + payload split into descriptors of at most `split` bytes.
  uint16_t post_tx(const packet::Header& h, std::span<const std::byte> payload = {},
                   uint32_t split = 4096);
  // Reads the next rx completion not yet consumed: header + payload.
  std::optional<std::pair<packet::Header, std::vector<std::byte>>> next_rx();

 private:
  uint16_t alloc_desc();
  FakeGuestRam& ram_;
  uint16_t size_;
  uint64_t desc_, avail_, used_;
  uint16_t avail_idx_ = 0;
  uint16_t next_desc_ = 0;
  uint16_t seen_used_ = 0;
  std::vector<uint64_t> buf_of_head_;  // rx: buffer gpa per head
};

// Client side of vhost-user, for driving VhostUserServer in tests.
class FakeFrontEnd {
 public:
  explicit FakeFrontEnd(UniqueFd conn) : conn_(std::move(conn)) {}
  static std::optional<FakeFrontEnd> connect(const std::string& path);
  int fd() const { return conn_.get(); }

  bool send(uint32_t request, std::span<const std::byte> payload, std::vector<int> fds = {},
            uint32_t extra_flags = 0);
  bool send_u64(uint32_t request, uint64_t v, uint32_t extra_flags = 0);
  bool send_state(uint32_t request, uint32_t index, uint32_t num);
  bool send_addr(uint32_t index, uint64_t desc, uint64_t used, uint64_t avail);
  bool send_file(uint32_t request, uint32_t index, int fd);  // fd < 0: "no fd" flag
  bool send_mem_table(const FakeGuestRam& ram, uint32_t extra_flags = 0);
  bool readable(int timeout_ms = 0) const;
  // Reads one reply: header fields and payload.
  std::optional<std::pair<vhost::MsgHeader, std::vector<std::byte>>> read_reply();

 private:
  UniqueFd conn_;
};

std::span<const std::byte> as_bytes(std::string_view s);

}  // namespace hull::vsock::testing
