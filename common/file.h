// Small file helpers shared by host and guest code.
#pragma once

#include <cstddef>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull {

// Reads a whole file; refuses files larger than max_bytes with Errc::Invalid
// naming the path and the limit (so a 100 MB config.json is an error, not an OOM).
Result<std::string> read_file(const std::string& path, size_t max_bytes);

// Writes `data` to `path` atomically: a temp file in the same directory,
// fsync, rename over `path`, fsync of the directory. Readers see the old or the
// new content, never a mix.
Status write_file_atomic(const std::string& path, const std::string& data, int mode = 0644);

// hull's private state directories (--root, sandboxes/): opens the directory
// `path`, creating it (mode 0700 under umask 077) and any missing parent (0700)
// when absent. The parents resolve as usual (docker's /var/run is a symlink to
// /run); the last component is opened with O_NOFOLLOW. Errc::InvalidState
// naming the path and what to do for a symlink, a non-directory, a directory
// of another uid than this process's, or one that group or others may write.
Result<UniqueFd> open_private_dir(const std::string& path);

// The same for `name` (one component) in the directory `parent_fd`, whose path
// `parent_path` is for messages: mkdirat/openat with O_NOFOLLOW, so a symlink
// put in place of `name` is refused, never followed.
Result<UniqueFd> open_private_dir_at(int parent_fd, const std::string& parent_path,
                                     const std::string& name);

}  // namespace hull
