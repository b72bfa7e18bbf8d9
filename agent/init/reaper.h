// Reaper: PID 1 waits for every process that ends in the guest. Orphans are reaped silently;
// processes someone registered (a container's init, an exec'd process) have their exit status
// delivered to that someone.
//
// SIGCHLD is blocked and read from a signalfd, which the main loop watches:
//
//   loop:   fd() readable -> on_readable(): drain the signalfd, waitpid(-1, WNOHANG) until
//           nothing is left; a watched pid -> its callback(status); any other pid -> counted.
//
// Registering a child races with reaping it (it may end before watch() is called, and would
// then be reaped as an orphan). So a spawner holds the reaper across fork and watch:
//
//   auto hold = reaper.hold();        // no reaping until `hold` goes away
//   pid_t pid = fork();               // or clone3()
//   hold.watch(pid, [](pid_t, int wait_status) { ... });
//
// Callbacks run on the loop's thread, after the reaper's lock is released.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::agent::init {

// "exited with status 3" / "killed by signal 9 (Killed)" for a waitpid() status. Pure.
std::string describe_wait_status(int wait_status);

class Reaper {
 public:
  using ExitCallback = std::function<void(pid_t pid, int wait_status)>;

  // Blocks SIGCHLD in the calling thread (call it before starting other threads, so they
  // inherit the mask) and opens the signalfd.
  static Result<Reaper> create();

  Reaper(Reaper&&) noexcept;
  Reaper& operator=(Reaper&&) = delete;
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;
  ~Reaper();

  // The signalfd to watch for EPOLLIN.
  int fd() const { return fd_.get(); }

  class Hold {
   public:
    // Delivers pid's exit status to `on_exit` once. A pid can be watched by one callback.
    void watch(pid_t pid, ExitCallback on_exit);

   private:
    friend class Reaper;
    explicit Hold(Reaper& r) : reaper_(&r), lock_(r.mutex_) {}
    Reaper* reaper_;
    std::unique_lock<std::mutex> lock_;
  };
  [[nodiscard]] Hold hold() { return Hold(*this); }

  // Reaps everything that has ended; calls the callbacks of watched pids.
  Status on_readable();

  // Reaps without waiting for the signalfd (for a final sweep or a loop without epoll).
  void reap_now();

  // For a child between fork and exec: unblocks every signal (the blocked SIGCHLD would
  // otherwise be inherited across exec). Async-signal-safe.
  static void reset_signal_mask_in_child();

  uint64_t orphans_reaped() const;
  size_t watched() const;

 private:
  explicit Reaper(UniqueFd fd) : fd_(std::move(fd)) {}

  UniqueFd fd_;
  mutable std::mutex mutex_;
  std::map<pid_t, ExitCallback> watched_;  // guarded by mutex_
  uint64_t orphans_ = 0;                   // guarded by mutex_
};

}  // namespace hull::agent::init
