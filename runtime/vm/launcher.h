// Starting the sandbox's three host processes, each as a ChildProcess
// (pidfd; killed and reaped unless detached) with stdout+stderr in a log
// file, or in a descriptor the caller gives (the sandbox's bounded logs,
// runtime/sandbox/log_ring.h; log_path then names where that log is read). A failed start says
// which process failed and carries the tail of its log (and, for QEMU, of the guest console).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/child_process.h"
#include "common/error.h"
#include "runtime/jail/jail.h"
#include "runtime/vm/qemu_cmdline.h"
#include "runtime/vm/virtiofsd.h"

namespace hull::vm {

// Lines of a log carried in an error message.
inline constexpr size_t kErrorLogLines = 8;

struct VsockLaunch {
  std::string binary;             // hull-vsock
  std::string vhost_user_socket;  // --socket (QEMU connects)
  std::string uds_path;           // --uds (hybrid vsock: the host dials this)
  // Jailed, the launcher binds both sockets and passes them (--socket-fd,
  // --uds-fd): hull-vsock cannot bind in the directory it serves.
  uint32_t guest_cid = 3;
  std::string log_path;
  int log_fd = -1;  // stdout+stderr go here when >= 0 (log_path is then only read)
  std::chrono::milliseconds ready_timeout{10000};
  // Jailed (runtime/jail): binary is its path inside the jail, and it runs
  // as PID 1 of its own PID namespace with jail::jail_env().
  const jail::Jail* jail = nullptr;
};

// Starts hull-vsock with --ready-fd and waits for its "ready" line: after
// that both of its sockets listen and QEMU may start.
Result<ChildProcess> start_hull_vsock(const VsockLaunch& l);

struct VirtiofsdLaunch {
  VirtiofsdSpec spec;       // spec.socket_fd is set here
  std::string socket_path;  // created and listened on by hull; passed as --fd
  std::string log_path;
  int log_fd = -1;  // as VsockLaunch::log_fd
};

// Creates the vhost-user socket, then starts virtiofsd on it as PID 1 of a
// new PID namespace (so killing it also kills the worker it forks).
Result<ChildProcess> start_virtiofsd(const VirtiofsdLaunch& l);

// Starts QEMU. It runs in the background; readiness is the agent answering.
// `inherit_fds`: (fd here, fd number in QEMU) for the NICs' taps and vhost-net
// (spec.nics names the QEMU-side numbers); nothing else is inherited.
// `jail`: QEMU enters it before exec (spec.qemu_path is then its path inside
// the jail) and runs as PID 1 of its own PID namespace with jail::jail_env().
// `log_fd` >= 0: QEMU's stdout+stderr go there instead of log_path.
Result<ChildProcess> start_qemu(const QemuSpec& spec, const std::string& log_path,
                                const std::vector<std::pair<int, int>>& inherit_fds = {},
                                const jail::Jail* jail = nullptr, int log_fd = -1);

// "<name> exited with status 1; <name> log: ...": what a dead process left.
// Empty when the process still runs. Reaps it if it ended.
std::string describe_exit(ChildProcess& p, const std::string& log_path);

}  // namespace hull::vm
