#include "runtime/vsock/rate_log.h"

#include <string>

#include "common/log.h"

namespace hull::vsock {

void RateLimitedLog::warn(std::string_view msg) {
  ++total_;
  const auto now = std::chrono::steady_clock::now();
  if (now - window_ >= std::chrono::seconds(1)) {
    if (suppressed_ > 0)
      log::warn(std::to_string(suppressed_) + " similar guest faults suppressed");
    window_ = now;
    in_window_ = 0;
    suppressed_ = 0;
  }
  if (in_window_ >= kPerSecond) {
    ++suppressed_;
    return;
  }
  ++in_window_;
  log::warn(msg);
}

}  // namespace hull::vsock
