// Unix stream sockets by path, shared by host and guest code.
#pragma once

#include <sys/un.h>

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull {

// The most bytes a socket path may have: sun_path less its NUL.
inline constexpr size_t kMaxUnixPathBytes = sizeof(sockaddr_un::sun_path) - 1;

// The address of the socket at `path`. Errc::Invalid, naming the path, when it
// is empty, holds a NUL byte or is longer than kMaxUnixPathBytes.
Result<sockaddr_un> unix_address(std::string_view path);

// A listening SOCK_STREAM socket bound at `path`, O_CLOEXEC plus `flags`
// (e.g. SOCK_NONBLOCK). A file already at `path` (a stale socket) is removed
// first.
Result<UniqueFd> listen_unix(const std::string& path, int backlog, int flags = 0);

// A SOCK_STREAM socket (O_CLOEXEC plus `flags`) connected to `path`. A failed
// connect keeps its errno in the error (ENOENT, ECONNREFUSED: nobody listens
// there yet; EAGAIN: its backlog is full).
Result<UniqueFd> connect_unix(const std::string& path, int flags = 0);

}  // namespace hull
