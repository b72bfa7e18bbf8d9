// Descriptor helpers shared by host and guest code.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace hull {

// Writes all of `data`: retries short writes and EINTR, and waits (poll) when
// a non-blocking fd is full. EAGAIN on a blocking fd is a send timeout
// (SO_SNDTIMEO): Errc::Timeout. EPIPE and other errors: Errc::System.
Status write_all(int fd, std::string_view data);

// write_all for a socket, with MSG_NOSIGNAL: a peer that has gone is EPIPE,
// never SIGPIPE, whatever the process does with that signal.
Status send_all(int fd, std::string_view data);

// Sets O_NONBLOCK on `fd`.
Status set_nonblocking(int fd);

// "/proc/self/fd/<fd>", or "/proc/self/fd/<fd>/<name>": a path that reaches
// what an fd (O_PATH included) names, for calls that take no fd.
std::string fd_path(int fd, std::string_view name = {});

}  // namespace hull
