// Small file helpers shared by host and guest code.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

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

// How write_kernel_file opens the file. A kernel file takes each write whole
// either way; a regular file standing in for one (a test's fake cgroup) shows
// the difference.
enum class KernelWrite {
  Truncate,  // O_TRUNC, as `echo >` opens it: a fake reads back just the value
  InPlace,   // at offset 0 over what is there: a fake shows every write's bytes
};

// Writes `value` to a kernel file (procfs, sysfs, cgroupfs) in one write(2),
// as those files take a value: the file must exist, and a short write is an
// error. Errors keep write's errno (EBUSY, EINVAL, ... say what the kernel
// refused).
Status write_kernel_file(const std::string& path, std::string_view value,
                         KernelWrite how = KernelWrite::Truncate);

// What remove_tree does with an entry that is not a directory.
enum class TreeFiles {
  Unlink,  // unlinks it (an ordinary file system)
  Keep,    // leaves it to its directory's rmdir (cgroupfs: a cgroup's files go with it)
};

// Removes `path` and everything below it, depth first. It never crosses into
// another mount: a directory below `path` that is a mount point (a bind mount
// of the same file system included) stops it with Errc::InvalidState naming
// it, and is left alone, so a forgotten bind mount of a container's rootfs is
// never emptied. A missing `path` is not an error.
Status remove_tree(const std::string& path, TreeFiles files = TreeFiles::Unlink);

// hull's private state directories (--root, sandboxes/): opens the directory
// `path`, creating it (mode 0700, whatever the umask) and any missing parent (0700)
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
