// DirGuard: owns a directory it created and removes it with everything in it
// when it goes away (unless release()d). Removal never crosses into another
// file system: a mount still below the directory is left alone and reported,
// so a forgotten bind mount of a container's rootfs is never emptied.
#pragma once

#include <string>
#include <utility>

#include "common/error.h"
#include "common/file.h"  // remove_tree

namespace hull::sandbox {

class DirGuard {
 public:
  DirGuard() = default;
  ~DirGuard() { (void)remove(); }
  DirGuard(DirGuard&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  DirGuard& operator=(DirGuard&& o) noexcept {
    if (this != &o) {
      (void)remove();
      path_ = std::exchange(o.path_, {});
    }
    return *this;
  }
  DirGuard(const DirGuard&) = delete;
  DirGuard& operator=(const DirGuard&) = delete;

  // Creates `path` (mode 0700; its parent must exist). Errc::Exists if it does.
  static Result<DirGuard> create(const std::string& path);
  // The same with mkdirat(parent_fd, name): `path` is parent_fd's path + "/" + name.
  static Result<DirGuard> create_at(int parent_fd, const std::string& name,
                                    const std::string& path);

  const std::string& path() const { return path_; }
  Status remove();
  std::string release() { return std::exchange(path_, {}); }

 private:
  explicit DirGuard(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

// mkdir -p with mode 0700 for each created component.
Status make_dirs(const std::string& path);

// make_dirs(path), then checks that `path` is a real directory (no symlink)
// owned by this user and writable by no one else, so that what is made below
// it (0700 each) stays private: Errc::InvalidState naming what is wrong.
Status make_private_dir_base(const std::string& path);

}  // namespace hull::sandbox
