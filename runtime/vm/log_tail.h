// The last lines of a log file, for error messages ("qemu exited with status
// 1; stderr: ...; console: ..."). Reads at most a bounded suffix of the file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hull::vm {

// The last `max_lines` lines of `text`, at most `max_bytes` of it, with
// non-printable bytes shown as '?'.
std::string last_lines(std::string_view text, size_t max_lines, size_t max_bytes = 4096);

// The same for a file; "" when it cannot be read.
std::string tail_file(const std::string& path, size_t max_lines, size_t max_bytes = 4096);

}  // namespace hull::vm
