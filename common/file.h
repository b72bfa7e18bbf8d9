// Small file helpers shared by host and guest code.
#pragma once

#include <cstddef>
#include <string>

#include "common/error.h"

namespace hull {

// Reads a whole file; refuses files larger than max_bytes with Errc::Invalid
// naming the path and the limit (so a 100 MB config.json is an error, not an OOM).
Result<std::string> read_file(const std::string& path, size_t max_bytes);

// Writes `data` to `path` atomically: a temp file in the same directory,
// fsync, rename over `path`, fsync of the directory. Readers see the old or the
// new content, never a mix.
Status write_file_atomic(const std::string& path, const std::string& data, int mode = 0644);

}  // namespace hull
