// The monitor: `hull __monitor ...`, a re-exec of the hull binary that is the
// container's pid on the host (see container.h for the process tree and
// sync.h for its handshake with `hull create` / `hull exec`).
//
// A monitor for a container's init boots the VM (it is the parent of QEMU,
// virtiofsd and hull-vsock), shares the rootfs and bind mounts, creates the
// container, then relays stdio and signals (relay.h) until the process ends,
// stops the VM and exits with the process's status: exit code N -> exit(N),
// killed by signal N -> it kills itself with N (core dumps off), so a waiting
// parent sees what it would see with runc.
//
// A monitor for an exec'd process (`exec_id` set) connects to the running
// VM's agent, starts the process, and relays the same way; it owns no VM.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/error.h"

namespace hull::container {

// The hidden subcommand.
inline constexpr const char* kMonitorCommand = "__monitor";

struct MonitorArgs {
  std::string root;
  std::string id;
  std::string bundle;          // init: the bundle (config.json); exec: unused
  std::string exec_id;         // "" for the container's init
  std::string process_file;    // exec: the OCI process JSON to run
  std::string sub_cgroup;      // exec: a cgroup below the container's (exec --cgroup)
  std::string console_socket;  // terminal: where the pty master goes
  std::string log_path;
  std::string log_format = "text";
  bool debug = false;
  // Environment entries added to the monitor's ("NAME=value"): the host
  // cgroup's owner mark (runtime/hostcgroup/cgroup.h), which every process of
  // its VM inherits. An inherited entry of the same name is dropped.
  std::vector<std::string> env;

  std::vector<std::string> to_argv(const std::string& exe) const;
};

// Runs a monitor; fd kMonitorSyncFd is its end of the handshake. Returns an
// exit code only when it failed before `commit`; otherwise it ends the
// process itself, with the status of the container's process.
int monitor_main(const MonitorArgs& args);

// Starts a monitor (spawn() of /proc/self/exe, its own session, default
// signal dispositions, empty mask) inheriting fds 0-2 and `sync_fd` as
// kMonitorSyncFd, nothing else. It stays our child: the caller reaps it.
Result<pid_t> spawn_monitor(const MonitorArgs& args, int sync_fd);

// Ends this process the way `s` says: exit(code), or death by s.signal when
// that signal ends a process by default; a stop or ignored signal (which the
// guest may report) becomes exit(128 + signal) instead of a frozen monitor.
[[noreturn]] void exit_like(const ExitStatus& s);

}  // namespace hull::container
