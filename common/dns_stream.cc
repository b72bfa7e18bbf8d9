#include "common/dns_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

namespace hull::dns {
namespace {

// One read's worth: a whole maximal frame fits.
constexpr size_t kReadBytes = kMaxMessageBytes + kLengthBytes;

}  // namespace

Status wait_fd(int fd, short events, int timeout_ms, int stop_fd) {
  std::array<pollfd, 2> p{pollfd{fd, events, 0}, pollfd{stop_fd, POLLIN, 0}};
  nfds_t n = stop_fd >= 0 ? 2 : 1;
  for (;;) {
    int r = ::poll(p.data(), n, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail_errno("poll");
    if (r == 0)
      return fail(Errc::Timeout, "no answer within " + std::to_string(timeout_ms) + " ms");
    if (n == 2 && p[1].revents) return fail(Errc::NotRunning, "the relay is stopping");
    return {};
  }
}

Status write_all(int fd, std::span<const uint8_t> bytes, int timeout_ms, int stop_fd) {
  while (!bytes.empty()) {
    HULL_TRY(wait_fd(fd, POLLOUT, timeout_ms, stop_fd));
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return fail_errno("writing to the relay stream");
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return {};
}

Result<std::optional<uint8_t>> read_byte(int fd, int timeout_ms, int stop_fd) {
  for (;;) {
    HULL_TRY(wait_fd(fd, POLLIN, timeout_ms, stop_fd));
    uint8_t b = 0;
    ssize_t n = ::recv(fd, &b, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return fail_errno("reading the relay stream");
    if (n == 0) return std::optional<uint8_t>();
    return std::optional<uint8_t>(b);
  }
}

Result<std::optional<std::vector<uint8_t>>> read_frame(int fd, FrameReader& reader, int timeout_ms,
                                                       int stop_fd) {
  std::vector<uint8_t> buf;
  for (;;) {
    HULL_ASSIGN(msg, reader.next());
    if (msg) return msg;
    HULL_TRY(wait_fd(fd, POLLIN, timeout_ms, stop_fd));
    // Read no further than the frame being assembled, so the reader never holds
    // more than one frame.
    size_t want = kReadBytes > reader.buffered() ? kReadBytes - reader.buffered() : 1;
    buf.resize(want);
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return fail_errno("reading the relay stream");
    if (n == 0) {
      if (reader.buffered() == 0) return std::optional<std::vector<uint8_t>>();
      return fail(Errc::GuestProtocol, "the relay stream ended inside a frame (" +
                                           std::to_string(reader.buffered()) + " bytes)");
    }
    reader.feed({buf.data(), static_cast<size_t>(n)});
  }
}

bool LogLimiter::allow(Clock::time_point now, uint64_t* suppressed) {
  std::lock_guard lock(mu_);
  if (now - window_start_ >= window_) {
    window_start_ = now;
    used_ = 0;
  }
  if (used_ >= burst_) {
    ++dropped_;
    return false;
  }
  ++used_;
  if (suppressed) *suppressed = dropped_;
  dropped_ = 0;
  return true;
}

}  // namespace hull::dns
