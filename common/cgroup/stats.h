// hull::cgroup stats: parsers of the cgroup v2 files hull reads back (their
// text comes from a kernel, or on the host from a cgroup the caller may have
// shaped). Pure; Errc::Invalid naming the line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace hull::cgroup {

// "key value" lines (cpu.stat, memory.stat, memory.events, cgroup.events).
Result<std::map<std::string, uint64_t>> parse_flat_keyed(std::string_view text);

// A single-value file: a number, or "max" (nullopt).
Result<std::optional<uint64_t>> parse_single_value(std::string_view text);

struct IoDeviceStat {
  uint32_t major = 0;
  uint32_t minor = 0;
  std::map<std::string, uint64_t> fields;  // rbytes wbytes rios wios dbytes dios
};
// io.stat: "8:0 rbytes=1 wbytes=2 ..." per line.
Result<std::vector<IoDeviceStat>> parse_io_stat(std::string_view text);

// cgroup.procs (v1 and v2): one pid per line.
Result<std::vector<pid_t>> parse_procs(std::string_view text);

}  // namespace hull::cgroup
