// Sandbox: one VM with its host processes, sockets, mount and directory.
//
// start() follows docs/design.md's start order as a straight line of named steps, each
// returning an owner (guard) of what it made:
//
//   accelerator -> layout -> runtime root -> boot slot -> sandbox directory -> shared mount
//   -> hull-vsock -> virtiofsd -> qemu -> agent (hybrid vsock + Health, while the VM makes
//   progress) -> qmp
//
// If a step fails, the guards made so far are destroyed in reverse order and
// the error names the step, with the tails of the console log and of the
// failing process's output. stop() asks the agent to kill the containers and
// leave nothing written in the guest's cache (DestroySandbox), then QEMU to
// quit (QMP) without waiting for the guest's power-off, then kills what is
// left after a grace period; it always removes every process, the mount, the
// sockets and the directory, also when QEMU, virtiofsd or hull-vsock died
// first or the agent never answered.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/error.h"
#include "runtime/config/config.h"
#include "runtime/sandbox/agent_client.h"
#include "runtime/sandbox/dir_guard.h"
#include "runtime/sandbox/layout.h"
#include "runtime/sandbox/log_ring.h"
#include "runtime/sandbox/mount_guard.h"
#include "runtime/vm/qmp.h"

namespace hull::sandbox {

// A NIC for the VM: a tap the caller opened in the namespace QEMU runs in
// (runtime/network). The fds stay the caller's; QEMU gets copies.
struct SandboxNic {
  std::string id;  // netdev id
  int tap_fd = -1;
  int vhost_fd = -1;  // -1: vhost=off
  std::string mac;
  uint32_t mtu = 0;
};

struct SandboxOptions {
  std::string id;
  std::string root = "/run/hull";  // runtime root (--root)
  config::Config config;
  std::string hull_vsock_path;  // the hull-vsock binary
  // Host TSC rate for tsc_early_khz= under TCG; 0: probe it (vm::host_tsc_rate).
  uint64_t tsc_khz = 0;
  // -accel tcg,tb-size= (TCG only; 0: QEMU's default). 16 MiB measured 24 MiB less Pss per
  // sandbox than the default with no boot-time cost (scripts/bench/sandbox.sh).
  uint32_t tcg_tb_size_mib = 16;
  // Waiting for the agent's Health answer fails once the VM has shown no progress for
  // this long (boot_progress.h), or once config.vm.start_timeout_s has passed since
  // QEMU's exec, whichever comes first.
  std::chrono::milliseconds agent_timeout{30000};
  // The VM's NICs, in guest order (none: the guest has loopback only).
  std::vector<SandboxNic> nics;
  // How long stop() waits for QEMU to quit before it kills it.
  std::chrono::milliseconds stop_grace{3000};
};

// When start() reached each point (steady clock).
struct StartTimings {
  std::chrono::steady_clock::time_point begin;
  std::chrono::steady_clock::time_point boot_slot;        // a boot slot taken (boot_slots.h)
  std::chrono::steady_clock::time_point qemu_exec;        // QEMU spawned
  std::chrono::steady_clock::time_point ready_line;       // the agent's ready line seen
  std::chrono::steady_clock::time_point agent_connected;  // hybrid vsock "OK"
  std::chrono::steady_clock::time_point agent_healthy;    // Health answered
  std::chrono::steady_clock::time_point end;              // start() returns
};

// "1540 ms (QEMU exec at 60, ready line 1200, connected 1250, Health answered 1500)": the
// milliseconds from start()'s begin to its end and to each point reached.
std::string describe(const StartTimings& t);

// When stop() reached each point (steady clock; unset when skipped).
struct StopTimings {
  std::chrono::steady_clock::time_point begin;
  std::chrono::steady_clock::time_point destroy_answered;  // DestroySandbox returned OK
  std::chrono::steady_clock::time_point qemu_ended;        // QEMU reaped
  std::chrono::steady_clock::time_point end;
};

// "160 ms (DestroySandbox answered at 60, QEMU ended 90)": from destroy_guest() to the
// end of stop(), and to each point reached.
std::string describe(const StopTimings& t);

class Sandbox {
 public:
  static Result<std::unique_ptr<Sandbox>> start(const SandboxOptions& opts);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Tears everything down (idempotent). Returns the first cleanup step that
  // failed, naming what was left behind; the other steps still ran.
  Status stop();

  // stop()'s first step alone (idempotent): the agent kills every container
  // process and leaves no written page in the guest's cache. A caller that
  // unmounts what it shared into the guest does so after this, so no process
  // that outlived the container's init writes into an unmounted directory.
  void destroy_guest();
  // Someone else's DestroySandbox has been answered (the relay's, on its own
  // connection): destroy_guest() has nothing left to do.
  void guest_destroyed_elsewhere();

  // Closes the agent connection until destroy_guest(), which dials a new one:
  // a process that hands the guest over to a confined one (the monitor to
  // its relay) reads nothing from the agent meanwhile. agent() is invalid
  // until then.
  void hang_up_agent();

  // Supervision: Errc::NotRunning naming the first of QEMU, hull-vsock and
  // virtiofsd that has ended (with its status and output tail), else OK.
  Status check_processes();

  const std::string& id() const { return id_; }
  const SandboxPaths& paths() const { return paths_; }
  uint32_t guest_cid() const { return cid_; }
  config::Accel accel() const { return accel_; }
  const StartTimings& timings() const { return timings_; }
  const StopTimings& stop_timings() const { return stop_timings_; }
  // The agent and QMP connections: valid from a successful start() until stop().
  AgentClient& agent() { return *agent_; }
  vm::QmpClient& qmp() { return *qmp_; }

  pid_t qemu_pid() const { return qemu_.pid(); }
  pid_t virtiofsd_pid() const { return virtiofsd_.pid(); }
  pid_t vsock_pid() const { return vsock_.pid(); }

 private:
  Sandbox() = default;
  // "qemu exited with status 1; qemu output: ..." for the first ended process, or "".
  std::string first_exit();

  std::string id_;
  SandboxOptions opts_;
  SandboxPaths paths_;
  uint32_t cid_ = 0;
  config::Accel accel_ = config::Accel::Tcg;
  StartTimings timings_;
  StopTimings stop_timings_;
  bool stopped_ = false;
  bool guest_destroyed_ = false;
  bool agent_hung_up_ = false;  // hang_up_agent(): destroy_guest() dials again

  // Declaration order is acquisition order: destruction undoes it in reverse.
  DirGuard dir_;
  DirGuard socket_dir_;  // only for a root too deep for socket paths (layout.h)
  MountGuard shared_mount_;
  std::unique_ptr<LogPump> logs_;  // the console's and the processes' bounded logs
  ChildProcess vsock_;
  ChildProcess virtiofsd_;
  ChildProcess qemu_;
  std::optional<AgentClient> agent_;
  std::optional<vm::QmpClient> qmp_;
};

}  // namespace hull::sandbox
