// Limits of the hooks runner.
#pragma once

#include <cstddef>

namespace hull::hooks {

// Bytes kept of a hook's stdout and of its stderr (the tail; older bytes are dropped).
inline constexpr size_t kMaxCapture = 64 * 1024;
// Bytes of the stderr tail quoted in an error message.
inline constexpr size_t kMessageTail = 512;
// A state JSON larger than this is refused before spawning (annotations are user data).
inline constexpr size_t kMaxStateBytes = 4 * 1024 * 1024;

}  // namespace hull::hooks
