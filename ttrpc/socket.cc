#include "ttrpc/socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/unix_socket.h"
#include "ttrpc/limits.h"

namespace hull::ttrpc {

Result<std::string> socket_path(std::string_view address) {
  constexpr std::string_view kScheme = "unix://";
  std::string_view path = address;
  if (path.starts_with(kScheme)) {
    path.remove_prefix(kScheme.size());
  } else if (path.find("://") != std::string_view::npos) {
    return fail(Errc::Invalid,
                "ttrpc address \"" + std::string(address) +
                    "\": only unix:// addresses or plain socket paths are supported");
  }
  if (path.empty()) return fail(Errc::Invalid, "ttrpc address is empty: give a unix socket path");
  HULL_TRY(wrap(unix_address(path), "ttrpc address"));
  return std::string(path);
}

Result<UniqueFd> listen_unix(const std::string& path) {
  HULL_ASSIGN(checked, socket_path(path));
  HULL_ASSIGN(addr, unix_address(checked));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("creating a unix socket for " + path);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == EADDRINUSE) {
      return fail(Errc::Exists,
                  "ttrpc socket " + path + " already exists: remove it if no server uses it");
    }
    return fail_errno("binding ttrpc socket " + path);
  }
  if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd.get(), SOMAXCONN) != 0) {
    auto err = fail_errno("setting up ttrpc socket " + path);
    ::unlink(path.c_str());
    return err;
  }
  return fd;
}

Result<UniqueFd> connect_unix(std::string_view address) {
  HULL_ASSIGN(path, socket_path(address));
  auto fd = hull::connect_unix(path);
  if (!fd) {
    const int err = fd.error().sys_errno;
    Errc code = (err == ENOENT || err == ECONNREFUSED) ? Errc::NotRunning : fd.error().code;
    return std::unexpected(Error{code, err, "connecting to ttrpc socket " + path});
  }
  HULL_TRY(set_send_timeout(fd->get()));
  return std::move(*fd);
}

Status set_send_timeout(int fd) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(kSendTimeout);
  timeval tv{.tv_sec = static_cast<time_t>(secs.count()), .tv_usec = 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return fail_errno("setting a send timeout on a ttrpc socket");
  }
  return {};
}

Result<PeerCred> peer_cred(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return fail_errno("reading the peer credentials (SO_PEERCRED) of a ttrpc connection");
  }
  return PeerCred{cred.pid, cred.uid, cred.gid};
}

Status send_frame(int fd, const FrameHeader& header, std::string_view body) {
  auto head = encode_header(header);
  iovec iov[2] = {
      {head.data(), head.size()},
      {const_cast<char*>(body.data()), body.size()},  // sendmsg does not write through it
  };
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  size_t left = head.size() + body.size();
  while (left > 0) {
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return std::unexpected(Error{Errc::Timeout, errno,
                                     "the ttrpc peer read nothing for " +
                                         std::to_string(kSendTimeout.count()) +
                                         " s while a frame was being sent"});
      }
      return fail_errno("sending a ttrpc frame");
    }
    left -= static_cast<size_t>(n);
    // Advance past what was written.
    size_t done = static_cast<size_t>(n);
    while (done > 0 && msg.msg_iovlen > 0) {
      if (done >= msg.msg_iov->iov_len) {
        done -= msg.msg_iov->iov_len;
        ++msg.msg_iov;
        --msg.msg_iovlen;
      } else {
        msg.msg_iov->iov_base = static_cast<char*>(msg.msg_iov->iov_base) + done;
        msg.msg_iov->iov_len -= done;
        done = 0;
      }
    }
  }
  return {};
}

}  // namespace hull::ttrpc
