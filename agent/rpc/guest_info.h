// Facts about the guest the agent reports in GetGuestDetails: pure parsers of
// /proc text plus the readers that feed them.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/error.h"

namespace hull::agent::rpc {

struct MemInfo {
  uint64_t total_kib = 0;
  uint64_t available_kib = 0;
};

// Parses /proc/meminfo text; MemTotal is required, MemAvailable optional.
Result<MemInfo> parse_meminfo(std::string_view text);

// Reads /proc/meminfo.
Result<MemInfo> read_meminfo();

// CLOCK_BOOTTIME in nanoseconds.
uint64_t boottime_ns();

}  // namespace hull::agent::rpc
