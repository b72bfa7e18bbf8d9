#include "agent/init/reaper.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <cstring>
#include <utility>
#include <vector>

namespace hull::agent::init {

std::string describe_wait_status(int wait_status) {
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    const char* name = ::sigdescr_np(sig);
    std::string s = "killed by signal " + std::to_string(sig);
    if (name) s += std::string(" (") + name + ")";
    if (WCOREDUMP(wait_status)) s += ", core dumped";
    return s;
  }
  return "ended with wait status " + std::to_string(wait_status);
}

Result<Reaper> Reaper::create() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (int err = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    return fail_errno("blocking SIGCHLD", err);
  }
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return fail_errno("signalfd for SIGCHLD");
  return Reaper(std::move(fd));
}

Reaper::Reaper(Reaper&& other) noexcept : fd_(std::move(other.fd_)) {
  std::lock_guard lock(other.mutex_);
  watched_ = std::move(other.watched_);
  orphans_ = other.orphans_;
}

Reaper::~Reaper() = default;

void Reaper::Hold::watch(pid_t pid, ExitCallback on_exit) {
  reaper_->watched_[pid] = std::move(on_exit);
}

Status Reaper::on_readable() {
  // Several SIGCHLDs may merge into one; the signalfd only says "look", waitpid says what.
  signalfd_siginfo info;
  for (;;) {
    ssize_t n = ::read(fd_.get(), &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return fail_errno("reading the SIGCHLD signalfd");
    break;
  }
  reap_now();
  return {};
}

void Reaper::reap_now() {
  std::vector<std::pair<std::pair<pid_t, int>, ExitCallback>> done;
  {
    std::lock_guard lock(mutex_);
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG | __WALL);
      if (pid < 0 && errno == EINTR) continue;
      if (pid <= 0) break;  // 0: children left but none ended; ECHILD: no children at all
      auto it = watched_.find(pid);
      if (it == watched_.end()) {
        ++orphans_;
        continue;
      }
      done.push_back({{pid, status}, std::move(it->second)});
      watched_.erase(it);
    }
  }
  for (auto& [ps, cb] : done) {
    if (cb) cb(ps.first, ps.second);
  }
}

void Reaper::reset_signal_mask_in_child() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

uint64_t Reaper::orphans_reaped() const {
  std::lock_guard lock(mutex_);
  return orphans_;
}

size_t Reaper::watched() const {
  std::lock_guard lock(mutex_);
  return watched_.size();
}

}  // namespace hull::agent::init
