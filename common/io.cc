#include "common/io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hull {
namespace {

Status write_loop(int fd, std::string_view data, bool socket) {
  while (!data.empty()) {
    ssize_t n = socket ? ::send(fd, data.data(), data.size(), MSG_NOSIGNAL)
                       : ::write(fd, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return fail_errno(socket ? "send" : "write");
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || !(fl & O_NONBLOCK)) {
      return fail(Errc::Timeout, std::string(socket ? "send" : "write") +
                                     ": the peer took nothing before the send timeout");
    }
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, -1) < 0 && errno != EINTR) {
      return fail_errno("poll");
    }
  }
  return {};
}

}  // namespace

Status write_all(int fd, std::string_view data) {
  return write_loop(fd, data, false);
}

Status send_all(int fd, std::string_view data) {
  return write_loop(fd, data, true);
}

Status set_nonblocking(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
    return fail_errno("setting O_NONBLOCK on fd " + std::to_string(fd));
  }
  return {};
}

std::string fd_path(int fd, std::string_view name) {
  std::string p = "/proc/self/fd/" + std::to_string(fd);
  if (!name.empty()) p.append("/").append(name);
  return p;
}

}  // namespace hull
