// The rest of what ps(1) shows of a container's process (ListProcesses fields
// 19 and up): pure parsers of /proc/<pid>/{status,statm,io,...}, the user and
// group names of the container's own /etc/passwd and /etc/group, and the
// reading of it all from the guest's /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent.pb.h"
#include "agent/rpc/stats.h"

namespace hull::agent::rpc {

// Most bytes of a process's environment the agent sends (ps shows it all,
// but the reply has a size limit).
inline constexpr size_t kMaxEnvironBytes = 64 << 10;
// Most bytes read of a container's /etc/passwd or /etc/group, and most names kept.
inline constexpr size_t kMaxIdFileBytes = 4 << 20;
inline constexpr size_t kMaxIdNames = 65536;
// A user or group name longer than this is not one (useradd allows 32).
inline constexpr size_t kMaxIdNameBytes = 256;
// How much of the 4 MiB message limit (agent/proto/constants.h) a
// ListProcesses reply fills with full entries; up to a quarter more holds
// entries without environments and thread lists, then the list ends.
inline constexpr size_t kProcessListBudgetBytes = 3 << 20;
// Most names of each table a ListProcesses reply carries.
inline constexpr size_t kMaxReplyIdNames = 4096;
// Most threads listed of one process.
inline constexpr size_t kMaxTasksPerProcess = 16384;

// /proc/<pid>/status: each line the parser knows; a missing or malformed one
// leaves its value 0.
struct ProcStatus {
  uint32_t uid[4] = {};  // real, effective, saved, filesystem
  uint32_t gid[4] = {};
  std::vector<uint32_t> groups;
  uint64_t sig_pnd = 0;  // the thread's own pending signals
  uint64_t shd_pnd = 0;  // the process's
  uint64_t sig_blk = 0;
  uint64_t sig_ign = 0;
  uint64_t sig_cgt = 0;
  uint64_t vm_lck_kib = 0;
  uint64_t vm_data_kib = 0;
  uint64_t vm_stk_kib = 0;
  uint64_t vm_exe_kib = 0;
  uint64_t vm_lib_kib = 0;
  uint64_t vm_swap_kib = 0;
};
ProcStatus parse_proc_status(std::string_view text);

// /proc/<pid>/statm, in pages; missing fields 0.
struct ProcStatm {
  uint64_t size = 0;
  uint64_t resident = 0;
  uint64_t shared = 0;
  uint64_t text = 0;
  uint64_t lib = 0;
  uint64_t data = 0;
};
ProcStatm parse_proc_statm(std::string_view text);

// /proc/<pid>/io ("rchar: 12\n..."); missing keys 0.
agent::ProcessIo parse_proc_io(std::string_view text);

// A /proc/<pid>/ns/<type> link, "ipc:[4026531839]": the inode; 0 when it is
// not of that shape.
uint64_t parse_ns_link(std::string_view link);

// /proc/<pid>/smaps_rollup: Pss and Private_Clean + Private_Dirty, in KiB.
struct SmapsRollup {
  uint64_t pss_kib = 0;
  uint64_t uss_kib = 0;
};
SmapsRollup parse_smaps_rollup(std::string_view text);

// /proc/<pid>/autogroup, "/autogroup-25 nice 0": {25, 0}.
std::optional<std::pair<int64_t, int32_t>> parse_autogroup(std::string_view text);

// /etc/passwd or /etc/group: id -> the first name that has it (as getpwuid
// answers). Lines not of the shape "name:x:id:..." are skipped, and so are
// names that are empty, longer than kMaxIdNameBytes or hold control
// characters; at most kMaxIdNames are kept.
std::map<uint32_t, std::string> parse_id_names(std::string_view text);

// The name tables of each root a container's processes have, read once per
// ListProcesses call.
class IdNameCache {
 public:
  struct Tables {
    std::map<uint32_t, std::string> users;
    std::map<uint32_t, std::string> groups;
  };
  // The tables of /proc/<pid>/root/etc/{passwd,group}, looked up inside that
  // root (RESOLVE_IN_ROOT: the image's symlinks stay in it); a file that is
  // missing, not a regular file or too large gives no names.
  const Tables& of(pid_t pid);

 private:
  std::map<std::pair<dev_t, ino_t>, Tables> by_root_;
  Tables none_;
};

// Fields 19 and up of `info` (and its names), for `pid` whose stat is `st`:
// `uptime_ms`, `hz` and `page_kib` as set_times_and_sizes takes them.
void read_process_details(pid_t pid, const ProcStat& st, uint64_t uptime_ms, uint64_t hz,
                          uint64_t page_kib, IdNameCache& names, ProcessInfo* info);

// One thread's ThreadInfo from its task directory's stat, status and wchan
// texts (pure). `wchan` "0" means running.
ThreadInfo thread_info(const ProcStat& st, const ProcStatus& status, std::string_view wchan,
                       uint64_t uptime_ms, uint64_t hz);

}  // namespace hull::agent::rpc
