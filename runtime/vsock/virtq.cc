#include "runtime/vsock/virtq.h"

#include <atomic>
#include <cstring>

#include "runtime/vsock/limits.h"

namespace hull::vsock::virtq {
namespace {

struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

// Copies one 16-byte descriptor out of guest memory once; all checks use the copy.
Desc read_desc(const std::byte* table, uint32_t index) {
  Desc d;
  // memcpy of guest bytes: the table range was checked when the queue or the
  // indirect table was translated, and index < table size here. x86 is little-endian.
  std::memcpy(&d.addr, table + index * kDescSize, 8);
  std::memcpy(&d.len, table + index * kDescSize + 8, 4);
  std::memcpy(&d.flags, table + index * kDescSize + 12, 2);
  std::memcpy(&d.next, table + index * kDescSize + 14, 2);
  return d;
}

// Ring fields are shared with the running driver: access them atomically.
// The rings' alignment (2 for avail, 4 for used) was checked in create().
uint16_t load16(std::byte* p, std::memory_order order) {
  // reinterpret_cast of guest bytes: an aligned le16 ring field inside a checked range.
  return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).load(order);
}
void store16(std::byte* p, uint16_t v, std::memory_order order) {
  // reinterpret_cast of guest bytes: an aligned le16 ring field inside a checked range.
  std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(v, order);
}
void store32(std::byte* p, uint32_t v) {
  // reinterpret_cast of guest bytes: an aligned le32 used-ring field inside a checked range.
  std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(p)).store(v, std::memory_order_relaxed);
}

bool test_and_set(std::vector<uint64_t>& bits, uint32_t i) {
  uint64_t& word = bits[i / 64];
  const uint64_t mask = uint64_t{1} << (i % 64);
  const bool was = (word & mask) != 0;
  word |= mask;
  return was;
}

}  // namespace

Checked<SplitQueue> SplitQueue::create(const GuestMemory& mem, const QueueSetup& s,
                                       uint16_t next_avail) {
  if (s.size == 0 || s.size > limits::kMaxQueueSize || (s.size & (s.size - 1)) != 0)
    return fault(FaultKind::QueueSizeInvalid, s.size, limits::kMaxQueueSize);
  if (s.desc_gpa % 16 != 0) return fault(FaultKind::RingMisaligned, s.desc_gpa, 16);
  if (s.avail_gpa % 2 != 0) return fault(FaultKind::RingMisaligned, s.avail_gpa, 2);
  if (s.used_gpa % 4 != 0) return fault(FaultKind::RingMisaligned, s.used_gpa, 4);
  auto desc = mem.slice(s.desc_gpa, uint64_t{s.size} * kDescSize);
  if (!desc) return std::unexpected(desc.error());
  auto avail = mem.slice(s.avail_gpa, 4 + 2 * uint64_t{s.size} + 2);
  if (!avail) return std::unexpected(avail.error());
  auto used = mem.slice(s.used_gpa, 4 + 8 * uint64_t{s.size} + 2);
  if (!used) return std::unexpected(used.error());

  SplitQueue q;
  q.mem_ = &mem;
  q.size_ = s.size;
  q.event_idx_ = s.event_idx;
  q.indirect_ = s.indirect;
  q.desc_ = desc->data();
  q.avail_ = avail->data();
  q.used_ = used->data();
  q.last_avail_ = next_avail;
  q.used_idx_ = load16(q.used_ + 2, std::memory_order_acquire);
  q.signalled_used_ = q.used_idx_;
  q.visited_.assign((limits::kMaxQueueSize + 63) / 64, 0);
  return q;
}

uint16_t SplitQueue::load_avail_idx() const {
  // acquire: the ring entries the driver wrote before idx are visible after it.
  return load16(avail_ + 2, std::memory_order_acquire);
}

bool SplitQueue::has_available() const {
  return load_avail_idx() != last_avail_;
}

PopResult SplitQueue::pop(Chain& out) {
  out.clear();
  uint16_t avail_idx = load_avail_idx();
  if (avail_idx == last_avail_ && event_idx_) {
    // Ask for a kick at the next buffer, then look again: the driver may have
    // added one between our read and the store.
    store16(used_ + 4 + 8 * size_, last_avail_, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    avail_idx = load_avail_idx();
  }
  const uint16_t pending = static_cast<uint16_t>(avail_idx - last_avail_);
  if (pending > size_)
    return {PopKind::RingBroken, false, Fault{FaultKind::AvailIdxJump, avail_idx, last_avail_}};
  if (pending == 0) return {PopKind::Empty, false, {}};

  const uint16_t head = load16(avail_ + 4 + 2 * (last_avail_ % size_), std::memory_order_relaxed);
  ++last_avail_;
  if (head >= size_)
    return {PopKind::BadChain, false, Fault{FaultKind::HeadOutOfRange, head, size_}};
  out.head = head;
  auto walked = walk(head, out);
  if (!walked) {
    out.clear();
    out.head = head;
    return {PopKind::BadChain, true, walked.error()};
  }
  return {PopKind::Chain, true, {}};
}

Checked<bool> SplitQueue::walk(uint16_t head, Chain& out) {
  const std::byte* table = desc_;
  uint32_t table_size = size_;
  bool in_indirect = false;
  bool seen_writable = false;
  uint32_t count = 0;
  uint64_t total = 0;
  std::fill(visited_.begin(), visited_.begin() + (size_ + 63) / 64, 0);

  uint32_t idx = head;
  for (;;) {
    if (idx >= table_size) return fault(FaultKind::DescOutOfRange, idx, table_size);
    if (test_and_set(visited_, idx)) return fault(FaultKind::DescriptorLoop, idx);
    const Desc d = read_desc(table, idx);

    if (d.flags & kDescIndirect) {
      if (in_indirect) return fault(FaultKind::IndirectInIndirect, idx);
      if (!indirect_) return fault(FaultKind::IndirectNotNegotiated, idx);
      if (d.flags & kDescNext) return fault(FaultKind::IndirectWithNext, idx);
      if (d.len == 0 || d.len % kDescSize != 0 || d.len / kDescSize > size_)
        return fault(FaultKind::IndirectTableSize, d.len, size_);
      auto t = mem_->slice(d.addr, d.len);
      if (!t) return std::unexpected(t.error());
      table = t->data();
      table_size = d.len / static_cast<uint32_t>(kDescSize);
      in_indirect = true;
      std::fill(visited_.begin(), visited_.begin() + (table_size + 63) / 64, 0);
      idx = 0;
      continue;
    }

    if (++count > size_) return fault(FaultKind::ChainTooLong, count, size_);
    auto buf = mem_->slice(d.addr, d.len);
    if (!buf) return std::unexpected(buf.error());
    const bool writable = (d.flags & kDescWrite) != 0;
    if (!writable && seen_writable) return fault(FaultKind::ReadableAfterWritable, idx);
    seen_writable = seen_writable || writable;
    if (total + d.len > UINT32_MAX) return fault(FaultKind::ChainLengthOverflow, total, d.len);
    total += d.len;
    if (writable) {
      out.writable_len += d.len;
    } else {
      out.readable_len += d.len;
    }
    if (d.len > 0) out.segments.push_back(Segment{*buf, writable});

    if (!(d.flags & kDescNext)) return true;
    idx = d.next;
  }
}

void SplitQueue::add_used(uint16_t head, uint32_t len) {
  std::byte* elem = used_ + 4 + 8 * (used_idx_ % size_);
  store32(elem, head);
  store32(elem + 4, len);
  ++used_idx_;
  // release: the element is visible before the index that publishes it.
  store16(used_ + 2, used_idx_, std::memory_order_release);
}

bool SplitQueue::needs_notify() {
  // Full barrier: our used.idx store must be visible before we read the
  // driver's used_event / flags, or an interrupt can be lost.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint16_t old_used = signalled_used_;
  const uint16_t new_used = used_idx_;
  signalled_used_ = new_used;
  if (old_used == new_used) return false;
  if (event_idx_) {
    const uint16_t used_event = load16(avail_ + 4 + 2 * size_, std::memory_order_relaxed);
    return static_cast<uint16_t>(new_used - used_event - 1) <
           static_cast<uint16_t>(new_used - old_used);
  }
  return (load16(avail_, std::memory_order_relaxed) & kAvailNoInterrupt) == 0;
}

}  // namespace hull::vsock::virtq
