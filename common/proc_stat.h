// /proc/<pid>/stat, read the same way by the host (pid-reuse checks on the
// processes it recorded) and by the agent (`hull ps` inside the guest).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace hull {

// The fields of one line, numbered as proc(5) numbers them.
struct ProcStat {
  pid_t pid = 0;             // 1
  std::string comm;          // 2, without its parentheses
  char state = '?';          // 3
  pid_t ppid = 0;            // 4
  pid_t pgrp = 0;            // 5
  pid_t session = 0;         // 6
  uint32_t tty_nr = 0;       // 7
  uint64_t utime = 0;        // 14, clock ticks
  uint64_t stime = 0;        // 15
  int32_t priority = 0;      // 18
  int32_t nice = 0;          // 19
  uint32_t num_threads = 0;  // 20
  uint64_t start_time = 0;   // 22, clock ticks after boot
  uint64_t vsize = 0;        // 23, bytes
  uint64_t rss = 0;          // 24, pages
  int32_t processor = 0;     // 39
  // What else ps(1) can show; a field here that is not a number reads as 0.
  int32_t tpgid = -1;        // 8
  uint32_t flags = 0;        // 9
  uint64_t min_flt = 0;      // 10
  uint64_t maj_flt = 0;      // 12
  uint64_t cutime = 0;       // 16, clock ticks
  uint64_t cstime = 0;       // 17
  uint64_t rsslim = 0;       // 25, bytes
  uint64_t start_code = 0;   // 26
  uint64_t end_code = 0;     // 27
  uint64_t start_stack = 0;  // 28
  uint64_t kstk_esp = 0;     // 29
  uint64_t kstk_eip = 0;     // 30
  uint32_t rt_priority = 0;  // 40
  uint32_t policy = 0;       // 41
  int fields = 0;            // how many fields the line has; a field past them reads 0
};

inline constexpr int kProcStatPpid = 4;
inline constexpr int kProcStatStartTime = 22;

// Parses one line. comm may hold spaces and parentheses: it ends at the last
// ')'. Errc::Invalid, naming the field, when the line has fewer than
// `need_fields` fields or a field read above is not a number. Pure.
Result<ProcStat> parse_proc_stat(std::string_view line, int need_fields = kProcStatPpid);

// Reads /proc/<pid>/stat and parses it; Errc::NotFound when there is no such
// process.
Result<ProcStat> read_proc_stat(pid_t pid, int need_fields = kProcStatPpid);

}  // namespace hull
