// Where hull finds its own binaries.
#pragma once

#include <string>

#include "common/error.h"

namespace hull::container {

inline constexpr const char* kHullVsockEnv = "HULL_VSOCK";

// The running hull binary (/proc/self/exe).
Result<std::string> self_exe();

// hull-vsock: next to the hull binary (installed: both in /usr/local/bin; the
// build tree links one next to the other), else $HULL_VSOCK. The error says
// where it looked.
Result<std::string> find_hull_vsock();

}  // namespace hull::container
