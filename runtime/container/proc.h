// Facts about host processes hull recorded by pid: start time (to detect pid
// reuse), liveness, and pidfds opened only after the start time matched.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::container {

// What /proc/<pid>/stat says about a process: field 3 (state letter) and
// field 22 (start time in clock ticks since boot).
struct ProcStat {
  char state = '?';
  uint64_t start_time = 0;
};

// Pure: parses one /proc/<pid>/stat line. The command name (field 2) may hold
// spaces and parentheses, so parsing starts after the last ')'.
Result<ProcStat> parse_proc_stat(std::string_view line);

// Reads /proc/<pid>/stat; Errc::NotFound when there is no such process.
Result<ProcStat> read_proc_stat(pid_t pid);

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
