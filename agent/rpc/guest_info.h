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
  // Written pages not yet with their filesystem: dirty, under writeback, and
  // FUSE's (virtio-fs) temporary copies of pages whose write is in flight.
  uint64_t dirty_kib = 0;
  uint64_t writeback_kib = 0;
  uint64_t writeback_tmp_kib = 0;
};

// Parses /proc/meminfo text; MemTotal is required, MemAvailable optional.
Result<MemInfo> parse_meminfo(std::string_view text);

// Reads /proc/meminfo.
Result<MemInfo> read_meminfo();

// Whether every page written in the guest has reached its filesystem
// (virtiofsd, for the shared directory): Dirty, Writeback and WritebackTmp
// all 0 in /proc/meminfo, read after vm.stat_refresh folded the per-CPU
// counters, so the numbers are exact. false when it cannot tell.
bool page_cache_clean();

// CLOCK_BOOTTIME in nanoseconds.
uint64_t boottime_ns();

}  // namespace hull::agent::rpc
