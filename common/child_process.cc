#include "common/child_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/pidfd.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace hull {

namespace {

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

}  // namespace

std::string ExitStatus::describe() const {
  if (signaled)
    return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
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
    if (::poll(&p, 1, static_cast<int>(left.count())) > 0 && !poll_exit()) {
      return fail(Errc::Internal, name_ + " (pid " + std::to_string(pid_) +
                                      ") ended but its exit status is lost (is SIGCHLD set to "
                                      "SIG_IGN?)");
    }
  }
}

Status ChildProcess::signal(int sig) {
  if (pid_ <= 0 || exit_) return {};
  if (::pidfd_send_signal(pidfd_.get(), sig, nullptr, 0) != 0 && errno != ESRCH) {
    return fail_errno(name_ + ": signal " + std::to_string(sig));
  }
  return {};
}

void ChildProcess::kill_and_reap() {
  if (pid_ <= 0) return;
  if (!exit_) {
    ::pidfd_send_signal(pidfd_.get(), SIGKILL, nullptr, 0);
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
