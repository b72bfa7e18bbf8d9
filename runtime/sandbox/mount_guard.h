// MountGuard: owns one mount point and detaches it (umount2 MNT_DETACH, which
// also takes every mount below it) when it goes away, unless release()d.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace hull::sandbox {

class MountGuard {
 public:
  MountGuard() = default;
  explicit MountGuard(std::string target) : target_(std::move(target)) {}
  ~MountGuard() { (void)unmount(); }
  MountGuard(MountGuard&& o) noexcept : target_(std::exchange(o.target_, {})) {}
  MountGuard& operator=(MountGuard&& o) noexcept {
    if (this != &o) {
      (void)unmount();
      target_ = std::exchange(o.target_, {});
    }
    return *this;
  }
  MountGuard(const MountGuard&) = delete;
  MountGuard& operator=(const MountGuard&) = delete;

  const std::string& target() const { return target_; }
  // Detaches the mount now; EINVAL/ENOENT (already gone) are not errors.
  Status unmount();
  // Keeps the mount; the caller owns it from now on.
  std::string release() { return std::exchange(target_, {}); }

 private:
  std::string target_;
};

// Bind-mounts `dir` onto itself and gives it a shared-propagation peer group
// of its own (private first, so it does not join the parent's group). Mounts
// made below it later (container rootfs) then reach virtiofsd's namespace.
Result<MountGuard> make_shared_mount(const std::string& dir);

// True when `path` is a mount point in the caller's mount namespace
// (/proc/self/mountinfo).
bool is_mount_point(const std::string& path);

// Pure: the mount points strictly below `dir` (absolute, no trailing slash)
// in a /proc/<pid>/mountinfo text, relative to `dir`, unescaped, each once,
// sorted (so a parent comes before what is mounted below it).
std::vector<std::string> mount_points_below(std::string_view mountinfo, const std::string& dir);

// The same for the caller's mount namespace.
std::vector<std::string> mount_points_below(const std::string& dir);

}  // namespace hull::sandbox
