// Guest: what the runc-mode lifecycle needs from a sandbox's agent, one call
// per agent RPC (agent/proto/agent.proto). The real implementation talks
// gRPC through the sandbox's hybrid vsock socket (agent_guest.h); unit tests
// use a fake (tests/fakes/fake_guest.h).
//
// Every call may block (the agent is in another machine); none may be made
// from a signal handler. Calls on one Guest may come from several threads
// (the monitor's relay threads), so implementations must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/child_process.h"
#include "common/error.h"

namespace hull::container {

// A process in the guest: a container's init (exec_id "") or an exec'd one.
struct ProcessRef {
  std::string container_id;
  std::string exec_id;
};

struct StdioMode {
  bool terminal = false;  // one pty in the guest; stderr is merged into stdout
  bool stdin = false;     // the process reads a stdin the host writes to
};

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

enum class Stream { Stdout, Stderr };

// The container's cgroup v2 counters (agent StatsContainer).
struct GuestStats {
  uint64_t cpu_usage_usec = 0;
  uint64_t cpu_user_usec = 0;
  uint64_t cpu_system_usec = 0;
  uint64_t memory_current = 0;
  uint64_t memory_max = 0;  // 0: unlimited
  uint64_t memory_swap_current = 0;
  uint64_t pids_current = 0;
  uint64_t pids_max = 0;  // 0: unlimited
  uint64_t io_read_bytes = 0;
  uint64_t io_write_bytes = 0;
  uint64_t oom_kills = 0;
  uint64_t cpu_nr_periods = 0;
  uint64_t cpu_nr_throttled = 0;
  uint64_t cpu_throttled_usec = 0;
  std::map<std::string, uint64_t> memory_stat;  // memory.stat
  uint64_t memory_events_max = 0;               // times usage hit memory.max
  struct IoDevice {
    uint32_t major = 0, minor = 0;
    uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0;
  };
  std::vector<IoDevice> io_devices;
};

// Receives output chunks; returning false stops reading.
using ChunkSink = std::function<bool(std::string_view)>;

class Guest {
 public:
  virtual ~Guest() = default;

  // `spec_json`: root.path and the host's bind sources relative to the
  // guest's shared directory (runtime/share/share.h). `bundle`: the host's bundle path (the
  // state the container's startContainer hooks read names it).
  virtual Status create_container(const std::string& id, const std::string& spec_json,
                                  StdioMode stdio, const std::string& bundle) = 0;
  // The container's startContainer hooks run in the guest before the process
  // starts: `timeout` covers them.
  virtual Status start_container(const std::string& id, std::chrono::milliseconds timeout) = 0;
  virtual Status remove_container(const std::string& id, uint32_t timeout_s) = 0;
  // `sub_cgroup`: a cgroup below the container's (exec --cgroup); "": its own.
  virtual Status exec_process(const ProcessRef& p, const std::string& process_json, StdioMode stdio,
                              const std::string& sub_cgroup) = 0;
  virtual Status signal(const ProcessRef& p, int sig, bool all) = 0;
  // Blocks until the process ends.
  virtual Result<ExitStatus> wait(const ProcessRef& p) = 0;

  // Returns how many bytes the guest took (a short write is not an error).
  virtual Result<size_t> write_stdin(const ProcessRef& p, std::string_view data) = 0;
  virtual Status close_stdin(const ProcessRef& p) = 0;
  // Streams the process's output into `sink` until EOF; blocks meanwhile.
  virtual Status read_output(const ProcessRef& p, Stream s, const ChunkSink& sink) = 0;
  virtual Status resize(const ProcessRef& p, uint32_t rows, uint32_t cols) = 0;

  virtual Result<GuestProcessList> list_processes(const std::string& id) = 0;
  virtual Status pause(const std::string& id) = 0;
  virtual Status resume(const std::string& id) = 0;
  virtual Status update(const std::string& id, const std::string& resources_json) = 0;
  virtual Result<GuestStats> stats(const std::string& id) = 0;
};

}  // namespace hull::container
