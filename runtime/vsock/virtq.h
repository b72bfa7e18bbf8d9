// Split virtqueue engine (VIRTIO 1.x "Split Virtqueues"), device side.
//
// Pure: no I/O, no logging. It reads the driver's rings through GuestMemory
// and checks every guest-controlled value (docs/development.md
// "Code facing the guest"):
//   - avail.idx may run at most `size` entries ahead of last_avail (else the
//     ring is broken and the device should stop using it);
//   - head and next indexes lie inside their table; a chain visits no
//     descriptor twice and has at most `size` descriptors in total;
//   - every buffer [addr, addr+len) lies inside one guest memory region, and the
//     summed length stays below 2^32;
//   - one level of indirect tables: no INDIRECT inside a table, no INDIRECT
//     together with NEXT, table length a non-zero multiple of 16;
//   - device-readable buffers come before device-writable ones.
// A bad chain is reported with its head so the caller can return it to the
// used ring with length 0 and go on with the next one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/vsock/fault.h"
#include "runtime/vsock/guest_memory.h"

namespace hull::vsock::virtq {

inline constexpr uint16_t kDescNext = 1;
inline constexpr uint16_t kDescWrite = 2;
inline constexpr uint16_t kDescIndirect = 4;
inline constexpr uint16_t kAvailNoInterrupt = 1;
inline constexpr size_t kDescSize = 16;

// One buffer of a chain, already translated and range-checked.
struct Segment {
  std::span<std::byte> mem;
  bool writable = false;
};

struct Chain {
  uint16_t head = 0;
  std::vector<Segment> segments;  // chain order: readable ones, then writable ones
  uint32_t readable_len = 0;
  uint32_t writable_len = 0;
  void clear() {
    segments.clear();
    readable_len = writable_len = 0;
  }
};

struct QueueSetup {
  uint32_t size = 0;       // power of two <= limits::kMaxQueueSize
  uint64_t desc_gpa = 0;   // descriptor table, 16-byte aligned
  uint64_t avail_gpa = 0;  // driver ring, 2-byte aligned
  uint64_t used_gpa = 0;   // device ring, 4-byte aligned
  bool event_idx = false;  // VIRTIO_RING_F_EVENT_IDX negotiated
  bool indirect = false;   // VIRTIO_RING_F_INDIRECT_DESC negotiated
};

enum class PopKind {
  Empty,       // nothing new from the driver
  Chain,       // `out` holds a valid chain
  BadChain,    // this chain is malformed: return out.head with length 0 if head_valid
  RingBroken,  // the avail ring itself is corrupt: stop using this queue
};

struct PopResult {
  PopKind kind = PopKind::Empty;
  bool head_valid = false;  // BadChain: the head index was in range
  Fault fault{};
};

class SplitQueue {
 public:
  // Checks size and alignment and that all three rings lie in guest memory.
  // `next_avail` is where processing resumes (SET_VRING_BASE); the used index
  // is taken from the used ring as the driver left it.
  static Checked<SplitQueue> create(const GuestMemory& mem, const QueueSetup& setup,
                                    uint16_t next_avail);

  // Takes the next available chain. On Empty with EVENT_IDX it first
  // publishes avail_event = last_avail and re-checks (so no kick is lost).
  PopResult pop(Chain& out);
  // Gives back the chain just popped (before anything was written to used).
  void undo_pop() { --last_avail_; }

  // Returns a chain to the driver with `len` bytes written.
  void add_used(uint16_t head, uint32_t len);

  // Whether the driver wants an interrupt for what was added since the last
  // call (EVENT_IDX rule, else the NO_INTERRUPT flag).
  bool needs_notify();

  // True if the driver has made buffers available that were not popped yet.
  bool has_available() const;

  uint16_t next_avail() const { return last_avail_; }
  uint32_t size() const { return size_; }

 private:
  SplitQueue() = default;
  uint16_t load_avail_idx() const;
  Checked<bool> walk(uint16_t head, Chain& out);

  const GuestMemory* mem_ = nullptr;
  uint32_t size_ = 0;
  bool event_idx_ = false;
  bool indirect_ = false;
  std::byte* desc_ = nullptr;   // size_ * 16 bytes
  std::byte* avail_ = nullptr;  // 4 + 2*size_ + 2 bytes
  std::byte* used_ = nullptr;   // 4 + 8*size_ + 2 bytes
  uint16_t last_avail_ = 0;
  uint16_t used_idx_ = 0;
  uint16_t signalled_used_ = 0;    // used idx at the last needs_notify()
  std::vector<uint64_t> visited_;  // loop detection bitmap, reused
};

}  // namespace hull::vsock::virtq
