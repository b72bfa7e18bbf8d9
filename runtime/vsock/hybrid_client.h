// Host-side client of hybrid vsock (docs/vsock.md "Host-initiated connections"): the rest of hull
// reaches the guest agent through this.
//
//   client                      hull-vsock                    guest
//     | connect(<uds>)              |                            |
//     | "CONNECT <port>\n"    ->    | REQUEST               ->   |
//     |                             | <- RESPONSE (or RST: EOF)  |
//     | <- "OK <n>\n"               |                            |
//     | byte stream <-----------------------------------------> |
//
// The reply is read one byte at a time up to '\n' (at most 32 bytes), so
// whatever the guest sends right after accepting stays in the socket for the
// caller. EOF (no listener yet), ECONNREFUSED and ENOENT (backend not up yet)
// are retried with back-off until the deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::vsock {

Result<UniqueFd> connect_hybrid(const std::string& uds_path, uint32_t port,
                                std::chrono::steady_clock::time_point deadline);

}  // namespace hull::vsock
