// Path handling inside a container rootfs. Every lookup goes through
// openat2(RESOLVE_IN_ROOT), so a symlink in the image (even "../../etc")
// cannot lead a mount or mknod outside the rootfs. Mounts then target the
// resolved fd through its /proc/self/fd/N magic link, as runc does.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::engine {

// openat2(rootfd, path, flags|O_CLOEXEC, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS).
Result<UniqueFd> open_in_root(int rootfd, std::string_view path, int flags);

// Creates every missing directory of `path` (mode, umask applies) and returns
// an O_PATH fd of the final directory.
Result<UniqueFd> mkdir_all_in_root(int rootfd, std::string_view path, mode_t mode);

// Creates the parents and an empty regular file at `path` when nothing is
// there yet; returns an O_PATH fd of whatever is at `path` afterwards.
Result<UniqueFd> touch_in_root(int rootfd, std::string_view path, mode_t mode);

// "a/b/c" -> {"a/b", "c"}; the parent of a top-level entry is "/".
std::pair<std::string, std::string> split_parent(std::string_view path);

}  // namespace hull::engine
