// VsockDevice: the two vrings of a virtio-vsock device (rx 0, tx 1) as the
// vhost-user front end sets them up (docs/vsock.md "Guest memory and ring addresses"), and the
// packet pump between them and the Muxer.
//
// Ring life: configured (NUM, ADDR, BASE) -> started (KICK) -> enabled
// (SET_VRING_ENABLE 1). A started but disabled tx ring is drained and its
// packets discarded; a disabled rx ring gets nothing. GET_VRING_BASE stops a
// ring and drops every connection.
//
// Guest faults: a bad chain or packet is logged (rate-limited), returned to
// the used ring with length 0 and dropped (RST where the spec says so). A
// corrupt avail ring marks that ring broken: it is left alone until the front
// end sets it up again. Nothing the guest writes stops the process.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/error.h"
#include "common/event_loop.h"
#include "common/unique_fd.h"
#include "runtime/vsock/guest_memory.h"
#include "runtime/vsock/muxer.h"
#include "runtime/vsock/rate_log.h"
#include "runtime/vsock/vhost_user_msg.h"
#include "runtime/vsock/virtq.h"

namespace hull::vsock {

// One mmap'ed region of guest RAM, unmapped on destruction.
class Mapping {
 public:
  Mapping(void* base, size_t len) : base_(base), len_(len) {}
  ~Mapping();
  Mapping(Mapping&& o) noexcept : base_(std::exchange(o.base_, nullptr)), len_(o.len_) {}
  Mapping& operator=(Mapping&&) = delete;
  Mapping(const Mapping&) = delete;
  std::byte* data() const { return static_cast<std::byte*>(base_); }

 private:
  void* base_;
  size_t len_;
};

class VsockDevice {
 public:
  VsockDevice(EventLoop& loop, Muxer& muxer, uint64_t guest_cid);
  ~VsockDevice();
  VsockDevice(const VsockDevice&) = delete;
  VsockDevice& operator=(const VsockDevice&) = delete;

  void set_features(uint64_t acked);
  // Maps each region from its fd (one per region, same order); replaces the old table.
  Status set_mem_table(const std::vector<vhost::RegionDesc>& regions, std::vector<UniqueFd> fds);
  Status set_ring_num(uint32_t index, uint32_t num);
  void set_ring_base(uint32_t index, uint32_t base);
  void set_ring_addr(const vhost::VringAddr& addr);
  // Stops the ring (GET_VRING_BASE) and returns where the driver should resume.
  uint16_t stop_ring(uint32_t index);
  Status set_ring_kick(uint32_t index, UniqueFd fd);  // invalid fd: "no fd", poll instead
  void set_ring_call(uint32_t index, UniqueFd fd);
  void set_ring_enable(uint32_t index, bool enable);
  uint64_t guest_cid() const { return guest_cid_; }

  // Moves packets: drains tx (one queue's worth), then fills rx while the muxer has work.
  void process();
  // Work is left that no kick will announce (tx entries beyond one round, or
  // rx work with rx buffers available): the caller should not sleep.
  bool busy() const;

  // Test and log helpers.
  bool ring_running(uint32_t index) const { return rings_[index].queue.has_value(); }
  bool ring_broken(uint32_t index) const { return rings_[index].broken; }
  uint64_t guest_faults() const { return guest_log_.total(); }

 private:
  struct Ring {
    uint32_t num = 0;
    std::optional<vhost::VringAddr> addr;
    uint16_t base = 0;
    bool started = false;  // KICK received
    bool enabled = false;
    bool broken = false;
    UniqueFd kick;
    EventLoop::Token kick_watch = 0;  // the loop's registration of `kick`, 0: none
    UniqueFd call;
    std::optional<virtq::SplitQueue> queue;
  };

  void unwatch_kick(Ring& r);
  void try_start(uint32_t index);
  void drop_queue(uint32_t index);
  void on_kick(uint32_t index);
  void process_tx();
  void process_rx();
  void signal(uint32_t index);
  void report(uint32_t index, const Fault& f);

  EventLoop& loop_;
  Muxer& muxer_;
  uint64_t guest_cid_;
  bool event_idx_ = false;
  bool indirect_ = false;
  GuestMemory memory_;
  std::vector<Mapping> mappings_;
  std::array<Ring, 2> rings_;
  virtq::Chain chain_;              // reused per chain
  std::vector<std::byte> payload_;  // reused per tx packet
  RateLimitedLog guest_log_;
};

}  // namespace hull::vsock
