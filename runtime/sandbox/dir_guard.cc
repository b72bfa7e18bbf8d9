#include "runtime/sandbox/dir_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "common/file.h"
#include "common/unique_fd.h"

namespace hull::sandbox {

namespace {

// Depth bound: the sandbox tree is shallow; deeper means something is wrong.
constexpr int kMaxDepth = 64;

// The mount id of `name` relative to `dfd` ("" = dfd itself) and whether it is a directory.
// A bind mount from the same file system has the same st_dev, so only the
// mount id tells a mount point apart.
Status mount_id_of(int dfd, const char* name, uint64_t* mnt_id, bool* is_dir) {
  struct statx stx {};
  int flags = AT_SYMLINK_NOFOLLOW | (name[0] == '\0' ? AT_EMPTY_PATH : 0);
  if (::statx(dfd, name, flags, STATX_TYPE | STATX_MNT_ID, &stx) != 0) return fail_errno("statx");
  if (!(stx.stx_mask & STATX_MNT_ID)) return fail(Errc::Unsupported, "statx: no mount id");
  *mnt_id = stx.stx_mnt_id;
  *is_dir = S_ISDIR(stx.stx_mode);
  return {};
}

// Empties the directory `dfd` (in mount `dev`); `where` names it in errors.
Status empty_dir(int dfd, uint64_t dev, const std::string& where, int depth) {
  if (depth > kMaxDepth) return fail(Errc::InvalidState, where + ": directory tree too deep");
  int dup = ::fcntl(dfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return fail_errno("dup " + where);
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return fail_errno("opendir " + where);
  }
  Status result;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    uint64_t mnt = 0;
    bool is_dir = false;
    if (auto s = mount_id_of(dfd, name.c_str(), &mnt, &is_dir); !s) {
      if (s.error().sys_errno == ENOENT) continue;
      result = fail(std::move(s.error()).wrap(where + "/" + name));
      break;
    }
    if (is_dir) {
      if (mnt != dev) {
        result = fail(Errc::InvalidState, where + "/" + name + " is a mount point; left in place");
        break;
      }
      UniqueFd sub(::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        result = fail_errno("open " + where + "/" + name);
        break;
      }
      if (auto s = empty_dir(sub.get(), dev, where + "/" + name, depth + 1); !s) {
        result = s;
        break;
      }
      if (::unlinkat(dfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        result = fail_errno("rmdir " + where + "/" + name);
        break;
      }
    } else if (::unlinkat(dfd, name.c_str(), 0) != 0 && errno != ENOENT) {
      result = fail_errno("unlink " + where + "/" + name);
      break;
    }
  }
  ::closedir(d);
  return result;
}

}  // namespace

Status remove_tree(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    return fail_errno("open " + path);
  }
  uint64_t mnt = 0;
  bool is_dir = false;
  HULL_TRY(wrap(mount_id_of(fd.get(), "", &mnt, &is_dir), path));
  HULL_TRY(empty_dir(fd.get(), mnt, path, 0));
  fd.reset();
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return fail_errno("rmdir " + path);
  return {};
}

Result<DirGuard> DirGuard::create(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) {
    if (errno == EEXIST) return fail(Errc::Exists, path + " already exists");
    return fail_errno("mkdir " + path);
  }
  return DirGuard(path);
}

Result<DirGuard> DirGuard::create_at(int parent_fd, const std::string& name,
                                     const std::string& path) {
  if (::mkdirat(parent_fd, name.c_str(), 0700) != 0) {
    if (errno == EEXIST) return fail(Errc::Exists, path + " already exists");
    return fail_errno("mkdir " + path);
  }
  return DirGuard(path);
}

Status DirGuard::remove() {
  if (path_.empty()) return {};
  std::string p = std::exchange(path_, {});
  return remove_tree(p);
}

Status make_dirs(const std::string& path) {
  if (path.empty() || path.front() != '/') return fail(Errc::Invalid, "not absolute: " + path);
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno("mkdir " + part);
  }
  return {};
}

Status make_private_dir_base(const std::string& path) {
  HULL_TRY(open_private_dir(path));
  return {};
}

}  // namespace hull::sandbox
