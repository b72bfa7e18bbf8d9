// Inspection answers: cgroup statistics as the API reports them, and the
// process list of a container read from /proc. The parsers are pure.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent.pb.h"
#include "agent/engine/cgroup.h"
#include "common/error.h"
#include "common/proc_stat.h"

namespace hull::agent::rpc {

// The value of `key` in a cgroup flat-keyed file ("oom_kill 3\n..."). Pure.
std::optional<uint64_t> flat_keyed_value(std::string_view text, std::string_view key);

// The engine's cgroup statistics as the API's CgroupStats (io summed over
// devices; a limit of "max" is 0). Pure.
CgroupStats to_proto(const engine::CgroupStats& s);

// /proc/<pid>/stat is parsed by parse_proc_stat (common/proc_stat.h).
// The real uid from /proc/<pid>/status ("Uid:\t0\t0\t0\t0"). Pure.
Result<uint32_t> parse_status_uid(std::string_view text);
// The real gid from /proc/<pid>/status ("Gid:\t0\t0\t0\t0"). Pure.
Result<uint32_t> parse_status_gid(std::string_view text);

// The ps(1) times and sizes of `st`: `uptime_ms` is the system's, `hz` the
// clock ticks per second, `page_kib` the page size. Pure.
void set_times_and_sizes(const ProcStat& st, uint64_t uptime_ms, uint64_t hz, uint64_t page_kib,
                         ProcessInfo* out);
// /proc/<pid>/cmdline (NUL-separated) as args. Pure.
std::vector<std::string> split_cmdline(std::string_view text);
// `text` with every byte that is not part of valid UTF-8 replaced by '?'. A
// process names itself with any bytes, and a proto3 string that is not UTF-8
// makes the host refuse the whole reply (one such process broke `hull ps`). Pure.
std::string printable_utf8(std::string_view text);

// Reads /proc/<pid>/{stat,status,cmdline}, the rest proc_info.h reads, and
// /proc/uptime. Errc::NotFound when it has exited. `names` resolves ids in
// the process's own root (and caches each root's tables).
class IdNameCache;
Result<ProcessInfo> read_process_info(pid_t pid, IdNameCache& names);

}  // namespace hull::agent::rpc
