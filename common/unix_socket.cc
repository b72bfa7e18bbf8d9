#include "common/unix_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace hull {

Result<sockaddr_un> unix_address(std::string_view path) {
  if (path.empty()) return fail(Errc::Invalid, "a unix socket path is empty");
  if (path.find('\0') != std::string_view::npos) {
    return fail(Errc::Invalid, "unix socket path \"" + std::string(path) + "\" holds a NUL byte");
  }
  if (path.size() > kMaxUnixPathBytes) {
    return fail(Errc::Invalid, "unix socket path " + std::string(path) + " is " +
                                   std::to_string(path.size()) + " bytes, longer than the " +
                                   std::to_string(kMaxUnixPathBytes) + " a socket address holds");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());  // NUL-terminated by the {} above
  return addr;
}

Result<UniqueFd> listen_unix(const std::string& path, int backlog, int flags) {
  HULL_ASSIGN(addr, unix_address(path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0));
  if (!fd) return fail_errno("socket for " + path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail_errno("removing stale " + path);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return fail_errno("bind " + path);
  }
  if (::listen(fd.get(), backlog) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return fail_errno("listen " + path, err);
  }
  return fd;
}

Result<UniqueFd> connect_unix(const std::string& path, int flags) {
  HULL_ASSIGN(addr, unix_address(path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0));
  if (!fd) return fail_errno("socket for " + path);
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return fail_errno("connect " + path);
  return fd;
}

}  // namespace hull
