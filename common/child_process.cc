#include "common/child_process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
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

// What a failed child reports: errno and the step that failed.
struct ChildReport {
  int err = 0;
  char step[96] = {};
};

// In the child after clone3: report errno (and the step, if named) to the
// parent and end.
[[noreturn]] void child_fail(int err_fd, const char* step = nullptr) {
  ChildReport r;
  r.err = errno;
  if (step) {
    size_t i = 0;
    for (; step[i] && i + 1 < sizeof r.step; ++i) r.step[i] = step[i];
    r.step[i] = 0;
  }
  (void)!::write(err_fd, &r, sizeof r);
  ::_exit(127);
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

Result<ChildProcess> ChildProcess::spawn(std::string name, const SpawnOptions& opts) {
  if (opts.argv.empty() || opts.argv[0].empty() || opts.argv[0][0] != '/') {
    return fail(Errc::Internal, name + ": argv[0] must be an absolute path");
  }
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_in) return fail_errno("opening /dev/null");
  UniqueFd out(opts.output_path.empty()
                   ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                   : ::open(opts.output_path.c_str(),
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!out) return fail_errno(name + ": opening " + opts.output_path);

  // Move every descriptor the child gets above all target numbers first, so
  // no dup2 in the child can overwrite a source that is still to be copied.
  int highest = 2;
  for (auto [from, to] : opts.inherit_fds) {
    if (to < 3) return fail(Errc::Internal, name + ": inherited fds must be >= 3");
    highest = std::max(highest, to);
  }
  auto stage = [highest](int fd) { return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, highest + 1)); };
  std::vector<std::pair<UniqueFd, int>> moves;  // (staged source, target in the child)
  moves.emplace_back(stage(null_in.get()), 0);
  moves.emplace_back(stage(out.get()), 1);
  moves.emplace_back(stage(out.get()), 2);
  for (auto [from, to] : opts.inherit_fds) moves.emplace_back(stage(from), to);
  for (const auto& m : moves) {
    if (!m.first) return fail_errno(name + ": duplicating a descriptor for the child");
  }

  // Everything the child touches is prepared here: after clone3 it may only
  // make async-signal-safe calls (the parent may run other threads).
  std::vector<char*> args;
  for (const auto& a : opts.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (opts.env) {
    for (const auto& e : *opts.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  char** child_env = opts.env ? envp.data() : environ;
  int errpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) return fail_errno(name + ": pipe");
  UniqueFd err_rd(errpipe[0]), err_wr(errpipe[1]);

  int pidfd = -1;
  clone_args ca{};
  ca.flags = CLONE_PIDFD | (opts.new_pid_namespace ? CLONE_NEWPID : 0);
  ca.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  ca.exit_signal = SIGCHLD;
  long rc = ::syscall(SYS_clone3, &ca, sizeof ca);
  if (rc < 0) return fail_errno(name + ": clone3");
  if (rc == 0) {
    // The child.
    for (const auto& [src, to] : moves) {
      if (::dup2(src.get(), to) < 0) child_fail(err_wr.get());
    }
    // Nothing but the listed descriptors, even ones a library opened without
    // O_CLOEXEC. The error pipe is above `highest` and closes on exec.
    for (int fd = 3; fd <= highest; ++fd) {
      bool wanted = false;
      for (const auto& m : moves) wanted = wanted || m.second == fd;
      if (!wanted) ::close(fd);
    }
    ::syscall(SYS_close_range, highest + 1, ~0u, CLOSE_RANGE_CLOEXEC);
    if (opts.new_session && ::setsid() < 0) child_fail(err_wr.get());
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (opts.pre_exec) {
      const char* step = "preparing the process";
      if (opts.pre_exec(opts.pre_exec_arg, &step) != 0) child_fail(err_wr.get(), step);
    }
    ::execve(args[0], args.data(), child_env);
    child_fail(err_wr.get());
  }
  ChildProcess child;
  child.pid_ = static_cast<pid_t>(rc);
  child.pidfd_.reset(pidfd);
  child.name_ = std::move(name);
  err_wr.reset();
  ChildReport report;
  ssize_t n;
  while ((n = ::read(err_rd.get(), &report, sizeof report)) < 0 && errno == EINTR) {
  }
  if (n > 0) {
    child.kill_and_reap();
    report.step[sizeof report.step - 1] = 0;
    std::string what =
        report.step[0] ? std::string(report.step) + " before starting " : std::string("starting ");
    return std::unexpected(Error{report.err == ENOENT ? Errc::NotFound : Errc::System, report.err,
                                 child.name_ + ": " + what + opts.argv[0]});
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
