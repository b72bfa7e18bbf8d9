#include "runtime/container/proc.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

#include "common/file.h"

namespace hull::container {

Result<ProcStat> parse_proc_stat(std::string_view line) {
  auto close = line.rfind(')');
  if (close == std::string_view::npos || close + 2 >= line.size()) {
    return fail(Errc::Invalid, "/proc stat line has no \"(comm) \" field");
  }
  std::string_view rest = line.substr(close + 2);  // field 3 onwards
  ProcStat st;
  st.state = rest[0];
  // field 22 is the 20th field counted from field 3
  size_t pos = 0;
  for (int field = 3; field < 22; ++field) {
    pos = rest.find(' ', pos);
    if (pos == std::string_view::npos) return fail(Errc::Invalid, "/proc stat line is too short");
    ++pos;
  }
  size_t end = rest.find(' ', pos);
  std::string_view num =
      rest.substr(pos, end == std::string_view::npos ? rest.size() - pos : end - pos);
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), st.start_time);
  if (ec != std::errc() || p != num.data() + num.size() || num.empty()) {
    return fail(Errc::Invalid, "/proc stat field 22 (starttime) is not a number");
  }
  return st;
}

Result<ProcStat> read_proc_stat(pid_t pid) {
  if (pid <= 0) return fail(Errc::NotFound, "no process " + std::to_string(pid));
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) {
    if (text.error().sys_errno == ENOENT || text.error().sys_errno == ESRCH) {
      return fail(Errc::NotFound, "no process " + std::to_string(pid));
    }
    return fail(std::move(text.error()));
  }
  return parse_proc_stat(*text);
}

bool process_alive(pid_t pid, uint64_t start_time) {
  auto st = read_proc_stat(pid);
  if (!st) return false;
  if (st->state == 'Z' || st->state == 'X' || st->state == 'x') return false;
  return start_time == 0 || st->start_time == start_time;
}

Result<UniqueFd> open_pidfd(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return fail(Errc::NotRunning, "no process " + std::to_string(pid));
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
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
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0 && errno != ESRCH) {
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
