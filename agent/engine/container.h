// hull::engine — turns an OCI spec plus a rootfs into a running container
// process inside the guest, exactly as runc would (namespaces, pivot_root,
// mounts, devices, masked/read-only paths, sysctls, hostname, rlimits, user,
// capabilities, no_new_privs, seccomp, cgroup v2, pipes or a pty), with runc's
// two-step create/start.
//
// Process model. The engine never runs setup code in a forked child of the
// (multi-threaded) agent: it re-executes the agent binary as the container
// init (spawn.h), which must call maybe_run_init() (container_init.h) first in main. The
// handshake is drawn in sync.h. The container process is made a child of the
// caller (CLONE_PARENT), and is pid 1 of its pid namespace when it has one.
//
// Reaping. The caller reaps: the agent is PID 1 and waits for every child in
// its signalfd loop, then feeds each status to Container::on_exit() /
// Process::on_exit() (which answer whether the pid was theirs). The engine
// waits only on its own short-lived bootstrap helpers, through pidfds
// (ECHILD, when the caller's reaper was quicker, is fine). Tests without a
// reaper use wait(), a blocking helper for the direct parent.
//
// Usage:
//   CreateOptions o{.id = "c1", .spec = spec, .bundle = "/run/b/c1"};
//   HULL_ASSIGN(c, Container::create(o));     // set up; nothing of the user's runs
//   HULL_TRY(c->start());                     // execve of process.args
//   HULL_ASSIGN(p, c->exec(proc, stdio));     // another process inside
//   ... reaper: c->on_exit(pid, status) ...   // exit_status(): code or 128+signal
//   HULL_TRY(c->destroy());                   // kill what is left, remove the cgroup
//
// Thread safety: every Container method may be called from any thread;
// calls are serialized by an internal mutex, except on_exit() and
// exit_status(), which only take it briefly (the reaper never waits on a
// start() or exec() in progress).
//
// Device rules (linux.resources.devices, plus runc's defaults) become an eBPF
// program on the container's cgroup (device_filter.h); update() replaces it
// when the update names devices.
// Not applied: from linux.resources the cgroup-v1-only knobs and network; process.apparmorProfile,
// process.selinuxLabel, linux.mountLabel (hull loads no LSM policy in the guest),
// process.execCPUAffinity, linux.intelRdt. Refused with Errc::Unsupported: seccomp notify
// (SCMP_ACT_NOTIFY, listenerPath), idmapped mounts, personality flags.
// Hooks: only startContainer hooks run here, in the container (start_hooks.h);
// the caller runs every other kind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/engine/cgroup.h"
#include "agent/engine/plan.h"
#include "agent/engine/seccomp.h"
#include "common/error.h"
#include "common/oci/spec.h"
#include "common/unique_fd.h"

namespace hull::engine {

// Pipes mode: the caller's fds (borrowed, duplicated into the process);
// -1 means /dev/null. Ignored when process.terminal is true.
struct Stdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct CreateOptions {
  std::string id;  // [A-Za-z0-9_.-]+, at most 1024 bytes
  oci::Spec spec;
  std::string bundle;  // base of a relative root.path and relative bind sources
  std::string rootfs;  // absolute; when empty: root.path (relative to bundle)
  // The bundle as the caller's user names it (hull: the host's path), for the
  // state on a startContainer hook's stdin; empty: `bundle`.
  std::string state_bundle;
  // cgroup v2 mount to create the container's cgroup under; nullopt: no cgroup
  // at all (linux.resources is then not applied; host tests on cgroup v1).
  std::optional<std::string> cgroup_root = std::string(kDefaultCgroupRoot);
  Stdio stdio;
  std::chrono::milliseconds timeout{30000};  // per handshake step
};

// runc's exit status: the exit code, or 128 + the signal that killed it.
int exit_status_from_wait(int wait_status);

// A process the engine started: the container's init or an exec'd process.
class Process {
 public:
  ~Process();  // SIGKILLs an exec'd process that is still running unless detach()ed
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // The caller's reaper reports a status; true when `pid` was this process.
  bool on_exit(pid_t pid, int wait_status);
  std::optional<int> exit_status() const;
  Status signal(int sig);
  // The pty master (terminal mode), once.
  UniqueFd take_console();
  Status resize(uint16_t rows, uint16_t cols);
  // Blocks until the process exits and reaps it (only for a caller that is
  // the parent and has no reaper of its own: tests). Returns exit_status().
  Result<int> wait();
  void detach() { detached_ = true; }

 private:
  friend class Container;
  Process(pid_t pid, UniqueFd pidfd, UniqueFd console, bool kill_on_drop)
      : pid_(pid),
        pidfd_(std::move(pidfd)),
        console_(std::move(console)),
        kill_on_drop_(kill_on_drop) {}

  pid_t pid_;
  UniqueFd pidfd_;
  UniqueFd console_;
  bool kill_on_drop_;
  bool detached_ = false;
  mutable std::mutex mu_;
  std::optional<int> status_;  // guarded by mu_
};

enum class ContainerState { Created, Running, Stopped };
std::string_view state_name(ContainerState s);

class Container {
 public:
  static Result<std::unique_ptr<Container>> create(const CreateOptions& opts);
  ~Container();  // destroy() unless already done; errors are dropped

  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  const std::string& id() const { return id_; }
  pid_t pid() const { return init_->pid(); }
  ContainerState state() const;

  // Lets the init run the startContainer hooks and exec process.args. Errors
  // from a hook or from execve come back here. Waits up to the timeout plus
  // the hooks' timeouts (without limit when a hook has none).
  Status start();

  // Runs `process` in the container's namespaces and cgroup with the
  // container's seccomp profile; returns once it has exec'd.
  // `sub_cgroup` (exec --cgroup): an existing cgroup below the container's,
  // relative; "" runs it in the container's own. A missing one is an error
  // naming it (as runc's), one that would climb out Errc::Invalid.
  Result<std::unique_ptr<Process>> exec(const oci::Process& process, Stdio stdio,
                                        std::string_view sub_cgroup = {});

  // `all`: every process of the container (cgroup.kill / cgroup.procs; without
  // a cgroup every process in its pid namespace).
  Status signal(int sig, bool all);

  // The caller's reaper reports a status; true when `pid` was the init.
  bool on_exit(pid_t pid, int wait_status);
  std::optional<int> exit_status() const;
  Result<int> wait();  // see Process::wait

  UniqueFd take_console();
  Status resize(uint16_t rows, uint16_t cols);

  // nullptr when created without a cgroup root.
  Cgroup* cgroup() { return cgroup_ ? &*cgroup_ : nullptr; }
  Status pause();
  Status resume();
  Status update(const oci::Resources& r);
  Result<CgroupStats> stats() const;

  // Kills every process left, waits for the cgroup to empty and removes it.
  // The engine mounts nothing outside the container's mount namespace, so
  // there is nothing else to undo. Idempotent.
  Status destroy();

 private:
  Container() = default;
  Status move_to(ContainerState to);  // the transition table
  Status signal_pid_namespace(int sig);
  void wait_for_handler(int sig);  // signal_grace.h

  std::string id_;
  oci::Spec spec_;
  ContainerPlan plan_;
  std::optional<SeccompProgram> seccomp_;
  std::optional<Cgroup> cgroup_;
  std::chrono::milliseconds timeout_{0};
  std::unique_ptr<Process> init_;
  UniqueFd sync_;  // to the init until it has exec'd
  std::chrono::steady_clock::time_point started_at_;
  mutable std::mutex mu_;  // serializes start/exec/signal/destroy/...
  mutable std::mutex state_mu_;
  ContainerState state_ = ContainerState::Created;  // guarded by state_mu_
  bool destroyed_ = false;
};

}  // namespace hull::engine
