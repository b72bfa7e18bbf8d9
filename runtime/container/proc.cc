#include "runtime/container/proc.h"
#include "common/pidfd.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace hull::container {

bool process_alive(pid_t pid, uint64_t start_time) {
  auto st = read_proc_stat(pid, kProcStatStartTime);
  if (!st) return false;
  if (st->state == 'Z' || st->state == 'X' || st->state == 'x') return false;
  return start_time == 0 || st->start_time == start_time;
}

Result<UniqueFd> open_pidfd(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return fail(Errc::NotRunning, "no process " + std::to_string(pid));
  UniqueFd fd(::pidfd_open(pid, 0));
  if (!fd) {
    if (errno == ESRCH) return fail(Errc::NotRunning, "process " + std::to_string(pid) + " ended");
    return fail_errno("pidfd_open " + std::to_string(pid));
  }
  if (!process_alive(pid, start_time)) {
    return fail(Errc::NotRunning, "process " + std::to_string(pid) + " ended");
  }
  return fd;
}

Status pidfd_signal(int pidfd, int sig) {
  if (::pidfd_send_signal(pidfd, sig, nullptr, 0) != 0 && errno != ESRCH) {
    return fail_errno("pidfd_send_signal");
  }
  return {};
}

bool pidfd_wait_exit(int pidfd, int timeout_ms) {
  pollfd p{pidfd, POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n != 0;
  }
}

}  // namespace hull::container
