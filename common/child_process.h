// ChildProcess: the one owner of a child we spawned. It holds a pidfd, so
// signals and waits can never hit a recycled pid, and its destructor kills
// (SIGKILL) and reaps the child unless detach() was called.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is an absolute path (no PATH search)
  // stdout and stderr both go to this file (created 0600, appended), or to
  // /dev/null when empty. stdin is always /dev/null.
  std::string output_path;
  // Descriptors the child inherits: (fd in the parent, fd number in the child).
  // Every other descriptor is closed by O_CLOEXEC. Child numbers must be >= 3
  // and distinct.
  std::vector<std::pair<int, int>> inherit_fds;
  bool new_session = true;  // setsid(): no terminal signals from the caller's session
  // Start the child as PID 1 of a new PID namespace: killing it then kills
  // every process it forked (virtiofsd forks its worker into namespaces of
  // its own, which a pidfd on the parent alone could not reach).
  bool new_pid_namespace = false;
  // The environment ("NAME=value" each); nullopt: the caller's own.
  std::optional<std::vector<std::string>> env;
  // Runs in the child last, just before execve (runtime/jail's jailer step):
  // only async-signal-safe calls. Returns 0, or -1 with errno set and *step
  // naming what failed; spawn() then reports "<name>: <step>: <errno>".
  int (*pre_exec)(const void* arg, const char** step) noexcept = nullptr;
  const void* pre_exec_arg = nullptr;
};

// How a child ended: exit code, or 128 + signal number when killed.
struct ExitStatus {
  int code = 0;
  bool signaled = false;
  int signal = 0;
  std::string describe() const;  // "exited with status 1" / "killed by signal 9"
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { kill_and_reap(); }
  ChildProcess(ChildProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        pidfd_(std::move(other.pidfd_)),
        name_(std::move(other.name_)),
        exit_(std::move(other.exit_)) {}
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (clone3 with CLONE_PIDFD, then execve) and reports exec
  // failures as errors. `name` is used in error messages ("virtiofsd").
  static Result<ChildProcess> spawn(std::string name, const SpawnOptions& opts);

  bool valid() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  const std::string& name() const { return name_; }

  // The exit status if the child has ended (reaps it), nullopt while it runs.
  std::optional<ExitStatus> poll_exit();
  // Waits up to `timeout` for the child to end; Errc::Timeout if it does not.
  Result<ExitStatus> wait_for(std::chrono::milliseconds timeout);
  // Sends `sig` through the pidfd; a child that already ended is not an error.
  Status signal(int sig);
  // SIGKILL and reap (no-op once reaped or detached).
  void kill_and_reap();
  // Leaves the child running and unreaped; returns its pid.
  pid_t detach();

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::string name_;
  std::optional<ExitStatus> exit_;
};

}  // namespace hull
