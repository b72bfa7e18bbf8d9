// The hybrid-vsock command line a host client sends first (docs/vsock.md
// "Host-initiated connections"). Pure; part of hull_vsock_core so the fuzz target covers it.
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime/vsock/fault.h"

namespace hull::vsock {

// "CONNECT <port>\n" (Firecracker's rules): whitespace-separated words, the
// first compared case-insensitively with "connect", the second a decimal u32,
// nothing else; at most limits::kConnectLineMax bytes including the newline.
// `line` excludes the newline.
Checked<uint32_t> parse_connect_line(std::string_view line);

}  // namespace hull::vsock
