// Rate-limited logging for anything a guest can trigger (docs/development.md "Code
// facing the guest"):
// at most kPerSecond lines a second, then one line with the suppressed count.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace hull::vsock {

class RateLimitedLog {
 public:
  static constexpr uint32_t kPerSecond = 20;
  void warn(std::string_view msg);
  uint64_t total() const { return total_; }

 private:
  std::chrono::steady_clock::time_point window_{};
  uint32_t in_window_ = 0;
  uint64_t suppressed_ = 0;
  uint64_t total_ = 0;
};

}  // namespace hull::vsock
