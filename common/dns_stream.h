// Blocking I/O for the DNS relay's streams (dns_frame.h), on both ends: every
// wait is bounded by a timeout and ends early when stop_fd (an eventfd, or -1)
// becomes readable. Plus the rate limit for what a guest can make a relay log.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/dns_frame.h"
#include "common/error.h"

namespace hull::dns {

// Waits until fd has `events` (POLLIN/POLLOUT). Timeout: Errc::Timeout;
// stop_fd readable: Errc::NotRunning.
Status wait_fd(int fd, short events, int timeout_ms, int stop_fd);

Status write_all(int fd, std::span<const uint8_t> bytes, int timeout_ms, int stop_fd);

// One byte; nullopt on EOF.
Result<std::optional<uint8_t>> read_byte(int fd, int timeout_ms, int stop_fd);

// The next message from a framed stream, reading as needed (at most one frame
// ahead is buffered in reader). nullopt on EOF between frames; EOF inside a
// frame is GuestProtocol.
Result<std::optional<std::vector<uint8_t>>> read_frame(int fd, FrameReader& reader, int timeout_ms,
                                                       int stop_fd);

// Lets `burst` lines through per `window`, then counts the rest until the
// window passes. Thread-safe.
class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  LogLimiter(int burst, Clock::duration window) : burst_(burst), window_(window) {}
  // Whether to log a line now; if so, suppressed says how many were dropped
  // since the last line that went through.
  bool allow(Clock::time_point now, uint64_t* suppressed);

 private:
  std::mutex mu_;
  int burst_;
  Clock::duration window_;
  Clock::time_point window_start_{};
  int used_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace hull::dns
