// Boot slots: admission control for VM boots on one host.
//
// A boot under TCG is a CPU-bound burst; fifty of them at once on two cores take a minute
// each and starve one another (and the container creations behind them). At most
// boot_slot_count() VMs per runtime root boot at the same time; the others queue for a slot
// before they make anything. A slot is a lock file <root>/boot-slots/<n> held with flock()
// from just before the sandbox's directory is made until its agent answers (or the start
// fails): the kernel drops the lock when the holder's fd closes, also when it dies, so a
// crash never leaks a slot. The holder removes its file (and the directory, once empty)
// before it lets go, so nothing stays under the root; a waiter that locked a file that was
// removed meanwhile sees another inode at the path and tries again.
#pragma once

#include <chrono>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::sandbox {

// Concurrent boots per online host CPU.
inline constexpr unsigned kBootSlotsPerCpu = 2;
// How often a queued start tries the slots again.
inline constexpr std::chrono::milliseconds kBootSlotPoll{50};

// kBootSlotsPerCpu x the online CPUs (at least 2).
unsigned boot_slot_count();

class BootSlot {
 public:
  BootSlot() = default;
  ~BootSlot() { release(); }
  BootSlot(BootSlot&& o) noexcept = default;
  BootSlot& operator=(BootSlot&& o) noexcept;
  BootSlot(const BootSlot&) = delete;
  BootSlot& operator=(const BootSlot&) = delete;
  // Takes a free slot under root, waiting up to `timeout` for one; Errc::Timeout naming
  // the slots when none came free.
  static Result<BootSlot> acquire(const std::string& root, unsigned slots,
                                  std::chrono::milliseconds timeout);
  bool held() const { return fd_.valid(); }
  // Removes the slot's file (and the directory if it is empty), then unlocks.
  void release();
  std::chrono::steady_clock::duration waited() const { return waited_; }

 private:
  UniqueFd fd_;
  std::string dir_;
  std::string path_;
  std::chrono::steady_clock::duration waited_{};
};

}  // namespace hull::sandbox
