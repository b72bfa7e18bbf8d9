#include "common/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char** environ;

namespace hull {

namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

ExitStatus from_siginfo(const siginfo_t& info) {
  ExitStatus st;
  if (info.si_code == CLD_EXITED) {
    st.code = info.si_status;
  } else {
    st.signaled = true;
    st.signal = info.si_status;
    st.code = 128 + info.si_status;
  }
  return st;
}

// posix_spawn attributes and file actions with guaranteed destruction.
struct SpawnSetup {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

std::string ExitStatus::describe() const {
  if (signaled) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exited with status " + std::to_string(code);
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    name_ = std::move(other.name_);
    exit_ = std::move(other.exit_);
  }
  return *this;
}

Result<ChildProcess> ChildProcess::spawn(std::string name, const SpawnOptions& opts) {
  if (opts.argv.empty() || opts.argv[0].empty() || opts.argv[0][0] != '/') {
    return fail(Errc::Internal, name + ": argv[0] must be an absolute path");
  }
  UniqueFd out(opts.output_path.empty()
                   ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                   : ::open(opts.output_path.c_str(),
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!out) return fail_errno(name + ": opening " + opts.output_path);

  // Move every inherited fd above all target numbers first, so no dup2 below
  // can overwrite a source that is still to be copied.
  int highest = 2;
  for (auto [from, to] : opts.inherit_fds) {
    if (to < 3) return fail(Errc::Internal, name + ": inherited fds must be >= 3");
    highest = std::max(highest, to);
  }
  std::vector<UniqueFd> staged;
  for (auto [from, to] : opts.inherit_fds) {
    UniqueFd copy(::fcntl(from, F_DUPFD_CLOEXEC, highest + 1));
    if (!copy) return fail_errno(name + ": duplicating fd " + std::to_string(from));
    staged.push_back(std::move(copy));
  }

  SpawnSetup s;
  posix_spawn_file_actions_addopen(&s.fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&s.fa, out.get(), 1);
  posix_spawn_file_actions_adddup2(&s.fa, out.get(), 2);
  for (size_t i = 0; i < staged.size(); ++i) {
    posix_spawn_file_actions_adddup2(&s.fa, staged[i].get(), opts.inherit_fds[i].second);
  }
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setsigdefault(&s.attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (opts.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&s.attr, flags);

  std::vector<char*> args;
  for (const auto& a : opts.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &s.fa, &s.attr, args.data(), environ);
  if (rc != 0) {
    return std::unexpected(Error{rc == ENOENT ? Errc::NotFound : Errc::System, rc,
                                 name + ": starting " + opts.argv[0]});
  }
  ChildProcess child;
  child.pid_ = pid;
  child.name_ = std::move(name);
  // Our unreaped child cannot be recycled, so this pidfd names exactly it.
  child.pidfd_.reset(pidfd_open(pid));
  if (!child.pidfd_) {
    int err = errno;
    ::kill(pid, SIGKILL);
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
    child.pid_ = -1;
    return fail_errno(child.name_ + ": pidfd_open", err);
  }
  return child;
}

std::optional<ExitStatus> ChildProcess::poll_exit() {
  if (exit_ || pid_ <= 0) return exit_;
  siginfo_t info{};
  if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info,
               WEXITED | WNOHANG) != 0) {
    return std::nullopt;
  }
  if (info.si_pid == 0) return std::nullopt;
  exit_ = from_siginfo(info);
  return exit_;
}

Result<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  if (pid_ <= 0 && !exit_) return fail(Errc::NotRunning, name_ + ": no process");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto st = poll_exit()) return *st;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return fail(Errc::Timeout, name_ + " (pid " + std::to_string(pid_) + ") still runs after " +
                                     std::to_string(timeout.count()) + " ms");
    }
    pollfd p{pidfd_.get(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
  }
}

Status ChildProcess::signal(int sig) {
  if (pid_ <= 0 || exit_) return {};
  if (pidfd_send_signal(pidfd_.get(), sig) != 0 && errno != ESRCH) {
    return fail_errno(name_ + ": signal " + std::to_string(sig));
  }
  return {};
}

void ChildProcess::kill_and_reap() {
  if (pid_ <= 0) return;
  if (!exit_) {
    pidfd_send_signal(pidfd_.get(), SIGKILL);
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info,
                    WEXITED) != 0 &&
           errno == EINTR) {
    }
    exit_ = from_siginfo(info);
  }
  pid_ = -1;
  pidfd_.reset();
}

pid_t ChildProcess::detach() {
  pidfd_.reset();
  return std::exchange(pid_, -1);
}

}  // namespace hull
