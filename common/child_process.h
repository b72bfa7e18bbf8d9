// ChildProcess: the one owner of a child we spawned (spawn(), common/spawn.h).
// It holds a pidfd, so signals and waits can never hit a recycled pid, and
// its destructor kills (SIGKILL) and reaps the child unless detach() was
// called.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull {

struct SpawnOptions;  // common/spawn.h

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

  bool valid() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  const std::string& name() const { return name_; }

  // The exit status if the child has ended (reaps it), nullopt while it runs
  // or when its status is lost (see wait_for).
  std::optional<ExitStatus> poll_exit();
  // Waits up to `timeout` for the child to end; Errc::Timeout if it does not.
  // Errc::Internal when it ended but its status is lost: the process sets
  // SIGCHLD to SIG_IGN, or reaps children elsewhere (waitpid(-1)).
  Result<ExitStatus> wait_for(std::chrono::milliseconds timeout);
  // Sends `sig` through the pidfd; a child that already ended is not an error.
  Status signal(int sig);
  // SIGKILL and reap (no-op once reaped or detached).
  void kill_and_reap();
  // Leaves the child running and unreaped; returns its pid.
  pid_t detach();

 private:
  friend Result<ChildProcess> spawn(std::string name, const SpawnOptions& opts);
  ChildProcess(pid_t pid, UniqueFd pidfd, std::string name)
      : pid_(pid), pidfd_(std::move(pidfd)), name_(std::move(name)) {}

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::string name_;
  std::optional<ExitStatus> exit_;
};

}  // namespace hull
