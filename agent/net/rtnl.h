// An rtnetlink socket in the caller's network namespace: sends one request at
// a time and reads the kernel's answer (an ack, an error, or a dump).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::agent::net {

class Rtnl {
 public:
  static Result<Rtnl> open();

  uint32_t next_seq() { return ++seq_; }

  // Sends a request made with NLM_F_ACK and waits for its ack. A kernel error
  // becomes Errc::System with that errno, "<what>: strerror".
  Status call(const std::vector<uint8_t>& msg, std::string_view what);

  // Sends a dump request; answers each message of the dump (header included),
  // up to NLMSG_DONE.
  Result<std::vector<std::vector<uint8_t>>> dump(const std::vector<uint8_t>& msg,
                                                 std::string_view what);

 private:
  explicit Rtnl(UniqueFd fd) : fd_(std::move(fd)) {}
  Status send(const std::vector<uint8_t>& msg, std::string_view what);
  Result<std::vector<uint8_t>> receive(std::string_view what);

  UniqueFd fd_;
  uint32_t seq_ = 0;
};

}  // namespace hull::agent::net
