// The container's processes as hull shows them (`hull ps`, the container
// layer's processes()): the agent's ListProcesses reply, already checked by
// runtime/sandbox/agent_reply.h, turned into plain values by one pure function.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent.pb.h"
#include "runtime/sandbox/agent_reply.h"

namespace hull::container {

// One thread of a guest process (agent ThreadInfo): its own stat values.
struct GuestThreadInfo {
  int tid = 0;
  std::string comm;
  char state = '?';
  uint64_t cpu_time_ms = 0;
  uint64_t elapsed_ms = 0;
  int priority = 0;
  int nice = 0;
  int processor = 0;
  uint32_t flags = 0;
  uint32_t policy = 0;
  uint32_t rt_priority = 0;
  uint64_t min_flt = 0;
  uint64_t maj_flt = 0;
  std::string wchan;  // empty: running
  uint64_t sig_pending = 0;
  uint64_t sig_blocked = 0;
  uint64_t sig_ignored = 0;
  uint64_t sig_caught = 0;
  uint64_t kstk_esp = 0;
  uint64_t kstk_eip = 0;
};

struct GuestProcessInfo {
  int pid = 0;
  int ppid = 0;
  uint32_t uid = 0;
  std::string comm;
  std::vector<std::string> args;
  // What ps(1) shows besides (agent ProcessInfo).
  uint32_t gid = 0;
  char state = '?';
  int pgid = 0;
  int sid = 0;
  uint32_t tty = 0;  // the kernel's tty_nr; 0: none
  uint64_t cpu_time_ms = 0;
  uint64_t elapsed_ms = 0;
  int priority = 0;
  int nice = 0;
  uint32_t threads = 0;
  uint64_t vsz_kib = 0;
  uint64_t rss_kib = 0;
  int processor = 0;
  uint64_t mem_total_kib = 0;  // the guest's, for %MEM
  // The rest of what ps(1) can show (agent ProcessInfo fields 19 and up).
  int tpgid = -1;
  uint32_t flags = 0;
  uint32_t policy = 0;
  uint32_t rt_priority = 0;
  uint64_t min_flt = 0;
  uint64_t maj_flt = 0;
  uint64_t children_cpu_time_ms = 0;
  uint32_t euid = 0, suid = 0, fsuid = 0;
  uint32_t egid = 0, sgid = 0, fsgid = 0;
  std::vector<uint32_t> groups;
  // The ids' names in the container's /etc/passwd and /etc/group; empty: none.
  std::string user, ruser, suser, fsuser;
  std::string group, rgroup, sgroup, fsgroup;
  std::vector<std::string> group_names;  // of `groups`, in order
  std::string wchan;                     // empty: running
  uint64_t sig_pending = 0;              // the process's
  uint64_t sig_pending_thread = 0;       // the main thread's own
  uint64_t sig_blocked = 0, sig_ignored = 0, sig_caught = 0;
  uint64_t start_stack = 0, kstk_esp = 0, kstk_eip = 0;
  uint64_t start_code = 0, end_code = 0;
  uint64_t rss_rlim = 0;  // bytes
  uint64_t share_kib = 0, text_kib = 0, data_kib = 0;
  uint64_t vm_lock_kib = 0, vm_data_kib = 0, vm_stack_kib = 0;
  uint64_t vm_exe_kib = 0, vm_lib_kib = 0, vm_swap_kib = 0;
  std::vector<std::string> environ;
  std::vector<GuestThreadInfo> tasks;  // the main thread first; none: not known
  std::string label;                   // empty: none
  std::vector<std::string> cgroups;    // /proc/<pid>/cgroup lines
  struct Namespaces {
    uint64_t ipc = 0, mnt = 0, net = 0, pid = 0, user = 0, uts = 0, cgroup = 0, time = 0;
  } ns;
  struct Io {
    uint64_t rchar = 0, wchar = 0, syscr = 0, syscw = 0;
    uint64_t read_bytes = 0, write_bytes = 0, cancelled_write_bytes = 0;
  } io;
  int oom_score = 0;
  int oom_score_adj = 0;
  uint32_t loginuid = UINT32_MAX;  // not set
  std::string exe;
  uint64_t pss_kib = 0, uss_kib = 0;
  int64_t autogroup = -1;  // none
  int autogroup_nice = 0;
};

// A container's processes as ListProcesses answers them, with the
// container's own user and group names (its /etc/passwd and /etc/group).
struct GuestProcessList {
  std::vector<GuestProcessInfo> processes;
  std::map<std::string, uint32_t> user_ids;  // name -> uid
  std::map<std::string, uint32_t> group_ids;
  bool truncated = false;  // the guest left environments or threads out (its size limit)
};

// The reply's processes with the rest of it (MemTotal on each process, the
// name tables keyed by name, whether the guest left details out). A state
// the agent could not read ("") becomes '?'.
GuestProcessList to_process_list(const std::vector<agent::ProcessInfo>& processes,
                                 const sandbox::ProcessListExtras& extras);

}  // namespace hull::container
