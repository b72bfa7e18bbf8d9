#include "runtime/vsock/hybrid_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "common/unix_socket.h"

namespace hull::vsock {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kReplyMax = 32;  // "OK <u32>\n" fits easily
constexpr auto kFirstBackoff = std::chrono::milliseconds(10);
constexpr auto kMaxBackoff = std::chrono::milliseconds(250);

int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// One attempt. Sets *retry when the failure means "not up yet": the backend
// socket missing or refusing, or EOF/reset before "OK" (no guest listener).
Result<UniqueFd> attempt(const std::string& uds_path, uint32_t port, Clock::time_point deadline,
                         bool* retry) {
  *retry = false;
  auto connected = connect_unix(uds_path);
  if (!connected) {
    int err = connected.error().sys_errno;
    *retry = err == ECONNREFUSED || err == ENOENT || err == EAGAIN;
    return fail(std::move(connected.error()));
  }
  UniqueFd fd = std::move(*connected);
  const std::string cmd = "CONNECT " + std::to_string(port) + "\n";
  if (::send(fd.get(), cmd.data(), cmd.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(cmd.size())) {
    *retry = errno == EPIPE || errno == ECONNRESET;
    return fail_errno("sending CONNECT to " + uds_path);
  }
  std::string reply;
  for (;;) {
    pollfd p{fd.get(), POLLIN, 0};
    const int left = ms_left(deadline);
    const int r = ::poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail_errno("poll");
    if (r == 0) return fail(Errc::Timeout, "no reply to CONNECT " + std::to_string(port));
    char c;
    const ssize_t n = ::read(fd.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // EOF or reset before "OK": nobody listens on that guest port (yet).
      *retry = n == 0 || errno == ECONNRESET;
      if (n == 0)
        return fail(Errc::NotRunning, "guest port " + std::to_string(port) +
                                          " closed the connection (no listener yet?)");
      return fail_errno("reading CONNECT reply");
    }
    if (c == '\n') break;
    reply.push_back(c);
    if (reply.size() >= kReplyMax)
      return fail(Errc::GuestProtocol,
                  "CONNECT reply longer than " + std::to_string(kReplyMax) + " bytes");
  }
  if (reply.rfind("OK ", 0) != 0)
    return fail(Errc::GuestProtocol, "CONNECT " + std::to_string(port) + " answered \"" + reply +
                                         "\" instead of \"OK <port>\"");
  return fd;
}

}  // namespace

Result<UniqueFd> connect_hybrid(const std::string& uds_path, uint32_t port,
                                Clock::time_point deadline) {
  auto backoff = kFirstBackoff;
  for (;;) {
    bool retry = false;
    auto r = attempt(uds_path, port, deadline, &retry);
    if (r || !retry) return r;
    if (Clock::now() + backoff >= deadline)
      return fail(Errc::Timeout, "connecting to vsock port " + std::to_string(port) + " via " +
                                     uds_path + ": " + r.error().what());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::duration_cast<decltype(backoff)>(kMaxBackoff));
  }
}

}  // namespace hull::vsock
