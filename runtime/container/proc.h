// Facts about host processes hull recorded by pid: start time (to detect pid
// reuse), liveness, and pidfds opened only after the start time matched.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "common/proc_stat.h"
#include "common/unique_fd.h"

namespace hull::container {

// The processes hull records are read with read_proc_stat(pid,
// kProcStatStartTime) (common/proc_stat.h): field 22 is the pid-reuse guard.

// True when `pid` runs and is the process that started at `start_time` (not
// a zombie, not a recycled pid). start_time 0 skips the reuse check.
bool process_alive(pid_t pid, uint64_t start_time);

// A pidfd for `pid` if it still is the process that started at `start_time`
// (checked after pidfd_open, so the pidfd cannot name a recycled pid);
// Errc::NotRunning otherwise.
Result<UniqueFd> open_pidfd(pid_t pid, uint64_t start_time);

// Sends `sig` through a pidfd; a process that already ended is not an error.
Status pidfd_signal(int pidfd, int sig);

// Waits until the process behind `pidfd` ends (it need not be our child), up
// to `timeout_ms` (-1: forever). Returns false on timeout.
bool pidfd_wait_exit(int pidfd, int timeout_ms);

}  // namespace hull::container
