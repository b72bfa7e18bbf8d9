#include "runtime/vsock/device.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/log.h"
#include "runtime/vsock/limits.h"
#include "runtime/vsock/packet.h"

namespace hull::vsock {

Mapping::~Mapping() {
  if (base_ != nullptr) ::munmap(base_, len_);
}

VsockDevice::VsockDevice(EventLoop& loop, Muxer& muxer, uint64_t guest_cid)
    : loop_(loop), muxer_(muxer), guest_cid_(guest_cid) {}

VsockDevice::~VsockDevice() {
  for (Ring& r : rings_) unwatch_kick(r);
}

void VsockDevice::unwatch_kick(Ring& r) {
  if (r.kick_watch) (void)loop_.remove(r.kick_watch);
  r.kick_watch = 0;
}

void VsockDevice::set_features(uint64_t acked) {
  event_idx_ = (acked & vhost::kFeatureEventIdx) != 0;
  indirect_ = (acked & vhost::kFeatureIndirectDesc) != 0;
}

Status VsockDevice::set_mem_table(const std::vector<vhost::RegionDesc>& regions,
                                  std::vector<UniqueFd> fds) {
  // Queues point into the old mappings: stop them first, restart after.
  for (uint32_t i = 0; i < rings_.size(); ++i) drop_queue(i);
  memory_.clear();
  mappings_.clear();
  for (size_t i = 0; i < regions.size(); ++i) {
    const vhost::RegionDesc& r = regions[i];
    if (r.size > SIZE_MAX - r.mmap_offset)
      return fail(Errc::GuestProtocol, "memory region " + std::to_string(i) + " size overflows");
    const uint64_t len = r.size + r.mmap_offset;
    struct stat st {};
    if (::fstat(fds[i].get(), &st) < 0) return fail_errno("fstat memory region fd");
    // A region past the end of its file would SIGBUS on access.
    if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) < len)
      return fail(Errc::GuestProtocol, "memory region " + std::to_string(i) + " needs " +
                                           std::to_string(len) + " bytes, its fd has " +
                                           std::to_string(st.st_size));
    void* base = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i].get(), 0);
    if (base == MAP_FAILED) return fail_errno("mmap memory region " + std::to_string(i));
    mappings_.emplace_back(base, len);
    if (auto ok = memory_.add_region(
            MemoryRegion{r.gpa, r.size, r.uaddr, mappings_.back().data() + r.mmap_offset});
        !ok) {
      memory_.clear();
      mappings_.clear();
      return fail(Errc::GuestProtocol,
                  "memory region " + std::to_string(i) + ": " + describe(ok.fault()));
    }
  }
  for (uint32_t i = 0; i < rings_.size(); ++i) try_start(i);
  return {};
}

Status VsockDevice::set_ring_num(uint32_t index, uint32_t num) {
  if (num == 0 || num > limits::kMaxQueueSize || (num & (num - 1)) != 0)
    return fail(Errc::GuestProtocol,
                "vring " + std::to_string(index) + " size " + std::to_string(num) +
                    " is not a power of two <= " + std::to_string(limits::kMaxQueueSize));
  drop_queue(index);
  rings_[index].num = num;
  return {};
}

void VsockDevice::set_ring_base(uint32_t index, uint32_t base) {
  drop_queue(index);
  rings_[index].base = static_cast<uint16_t>(base);
  rings_[index].broken = false;
}

void VsockDevice::set_ring_addr(const vhost::VringAddr& addr) {
  drop_queue(addr.index);
  rings_[addr.index].addr = addr;
  rings_[addr.index].broken = false;
  try_start(addr.index);
}

uint16_t VsockDevice::stop_ring(uint32_t index) {
  Ring& r = rings_[index];
  drop_queue(index);
  unwatch_kick(r);
  r.kick.reset();
  r.started = false;
  r.enabled = false;
  muxer_.reset_all();  // vsock: a stopped ring ends every connection
  return r.base;
}

Status VsockDevice::set_ring_kick(uint32_t index, UniqueFd fd) {
  Ring& r = rings_[index];
  unwatch_kick(r);
  r.kick = std::move(fd);
  if (r.kick) {
    HULL_ASSIGN(watch,
                loop_.add(r.kick.get(), EPOLLIN, [this, index](uint32_t) { on_kick(index); }));
    r.kick_watch = watch;
  }
  r.started = true;
  r.broken = false;
  try_start(index);
  return {};
}

void VsockDevice::set_ring_call(uint32_t index, UniqueFd fd) {
  rings_[index].call = std::move(fd);
}

void VsockDevice::set_ring_enable(uint32_t index, bool enable) {
  rings_[index].enabled = enable;
}

void VsockDevice::drop_queue(uint32_t index) {
  Ring& r = rings_[index];
  if (r.queue) r.base = r.queue->next_avail();
  r.queue.reset();
}

void VsockDevice::try_start(uint32_t index) {
  Ring& r = rings_[index];
  if (r.queue || !r.started || r.broken || r.num == 0 || !r.addr || memory_.empty()) return;
  virtq::QueueSetup s;
  s.size = r.num;
  s.event_idx = event_idx_;
  s.indirect = indirect_;
  // SET_VRING_ADDR carries the front end's user addresses (docs/vsock.md).
  auto desc = memory_.uaddr_to_gpa(r.addr->desc, uint64_t{r.num} * virtq::kDescSize);
  auto avail = memory_.uaddr_to_gpa(r.addr->avail, 6 + 2 * uint64_t{r.num});
  auto used = memory_.uaddr_to_gpa(r.addr->used, 6 + 8 * uint64_t{r.num});
  for (auto* g : {&desc, &avail, &used}) {
    if (!*g) {
      report(index, g->fault());
      r.broken = true;
      return;
    }
  }
  s.desc_gpa = *desc;
  s.avail_gpa = *avail;
  s.used_gpa = *used;
  auto q = virtq::SplitQueue::create(memory_, s, r.base);
  if (!q) {
    report(index, q.fault());
    r.broken = true;
    return;
  }
  r.queue.emplace(std::move(*q));
}

void VsockDevice::on_kick(uint32_t index) {
  uint64_t count;
  // Drains the eventfd; the work itself happens in process() after this batch.
  if (::read(rings_[index].kick.get(), &count, sizeof count) < 0 && errno != EAGAIN) {
    log::warn("reading kick eventfd of vring " + std::to_string(index) + " failed");
  }
}

void VsockDevice::report(uint32_t index, const Fault& f) {
  guest_log_.warn("vring " + std::to_string(index) + ": " + describe(f));
}

void VsockDevice::signal(uint32_t index) {
  Ring& r = rings_[index];
  if (!r.call) return;
  const uint64_t one = 1;
  if (::write(r.call.get(), &one, sizeof one) < 0 && errno != EAGAIN)
    log::warn("signalling call eventfd of vring " + std::to_string(index) + " failed");
}

void VsockDevice::process() {
  process_tx();
  process_rx();
}

bool VsockDevice::busy() const {
  const Ring& tx = rings_[limits::kTxQueue];
  const Ring& rx = rings_[limits::kRxQueue];
  if (tx.queue && tx.queue->has_available()) return true;
  return rx.queue && rx.enabled && muxer_.has_rx_work() && rx.queue->has_available();
}

void VsockDevice::process_tx() {
  Ring& r = rings_[limits::kTxQueue];
  if (!r.queue) return;
  virtq::SplitQueue& q = *r.queue;
  bool used_any = false;
  // At most one queue's worth per round so rx and other fds get their turn.
  for (uint32_t n = 0; n < q.size(); ++n) {
    const virtq::PopResult pop = q.pop(chain_);
    if (pop.kind == virtq::PopKind::Empty) break;
    if (pop.kind == virtq::PopKind::RingBroken) {
      report(limits::kTxQueue, pop.fault);
      drop_queue(limits::kTxQueue);
      r.broken = true;
      muxer_.reset_all();
      return;
    }
    if (pop.kind == virtq::PopKind::BadChain) {
      report(limits::kTxQueue, pop.fault);
      if (pop.head_valid) {
        q.add_used(chain_.head, 0);
        used_any = true;
      }
      continue;
    }
    const uint16_t head = chain_.head;
    auto h = packet::read_tx(chain_, payload_);
    q.add_used(head, 0);
    used_any = true;
    if (!h) {
      report(limits::kTxQueue, h.fault());
      continue;
    }
    if (!r.enabled) continue;  // started but disabled: drain and discard
    if (auto ok = packet::validate_tx(*h, guest_cid_); !ok) {
      report(limits::kTxQueue, ok.fault());
      const FaultKind k = ok.fault().kind;
      if (k != FaultKind::BadSrcCid && k != FaultKind::BadDstCid) muxer_.reject(*h);
      continue;
    }
    muxer_.on_guest_packet(*h, payload_);
  }
  if (used_any && q.needs_notify()) signal(limits::kTxQueue);
}

void VsockDevice::process_rx() {
  Ring& r = rings_[limits::kRxQueue];
  if (!r.queue || !r.enabled) return;
  virtq::SplitQueue& q = *r.queue;
  bool used_any = false;
  while (muxer_.has_rx_work()) {
    const virtq::PopResult pop = q.pop(chain_);
    if (pop.kind == virtq::PopKind::Empty) break;  // no buffers: resume on the next rx kick
    if (pop.kind == virtq::PopKind::RingBroken) {
      report(limits::kRxQueue, pop.fault);
      drop_queue(limits::kRxQueue);
      r.broken = true;
      muxer_.reset_all();
      return;
    }
    if (pop.kind == virtq::PopKind::BadChain) {
      report(limits::kRxQueue, pop.fault);
      if (pop.head_valid) {
        q.add_used(chain_.head, 0);
        used_any = true;
      }
      continue;
    }
    if (auto room = packet::rx_payload_room(chain_); !room) {
      report(limits::kRxQueue, room.fault());
      q.add_used(chain_.head, 0);
      used_any = true;
      continue;
    }
    const auto used = muxer_.fill_rx(chain_);
    if (!used) {
      q.undo_pop();
      break;
    }
    q.add_used(chain_.head, *used);
    used_any = true;
  }
  if (used_any && q.needs_notify()) signal(limits::kRxQueue);
}

}  // namespace hull::vsock
