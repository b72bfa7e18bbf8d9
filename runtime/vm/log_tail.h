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

// The newest `max_bytes` of a log kept as a ring of two files (runtime/sandbox/log_ring.h):
// the end of `path`, preceded by the end of `path`.1 when path holds less (it was just
// rotated). Raw bytes; "" when neither can be read. Symlinks are not followed.
std::string ring_tail_bytes(const std::string& path, size_t max_bytes);

// last_lines of ring_tail_bytes: the end of a log file (and of its older half).
std::string tail_file(const std::string& path, size_t max_lines, size_t max_bytes = 4096);

}  // namespace hull::vm
