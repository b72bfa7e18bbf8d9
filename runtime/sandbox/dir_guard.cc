#include "runtime/sandbox/dir_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "common/file.h"
#include "common/unique_fd.h"

namespace hull::sandbox {

namespace {

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

// The first entry of directory `dfd` other than . and .., or "" when it is
// empty.
Result<std::string> first_entry(int dfd, const std::string& where) {
  int dup = ::openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return fail_errno("open " + where);
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return fail_errno("opendir " + where);
  }
  std::string name;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    name = std::move(n);
    break;
  }
  int err = errno;
  ::closedir(d);
  if (name.empty() && err != 0) return fail_errno("readdir " + where, err);
  return name;
}

// Empties the directory `top` (in mount `mnt`); `where` names it in errors.
// Depth-first without recursion and with one directory open at a time, so a
// tree of any depth (a guest can make one thousands of levels deep in its
// share) goes without running out of stack or descriptors: it climbs back
// with "..", checking each parent is the directory it came from.
Status empty_dir(int top, uint64_t mnt, const std::string& where) {
  struct Level {
    std::string name;  // this directory's name in its parent
    dev_t dev;         // the parent's identity, to check ".." against
    ino_t ino;
  };
  std::vector<Level> stack;
  UniqueFd cur(::openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return fail_errno("open " + where);
  auto path = [&] {
    std::string p = where;
    for (const auto& l : stack) p += "/" + l.name;
    return p;
  };
  for (;;) {
    HULL_ASSIGN(name, first_entry(cur.get(), path()));
    if (name.empty()) {
      if (stack.empty()) return {};
      // This directory is empty: up to its parent, and remove it there.
      Level l = std::move(stack.back());
      stack.pop_back();
      UniqueFd up(::openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!up) return fail_errno("open " + path() + " again");
      struct stat st {};
      if (::fstat(up.get(), &st) != 0) return fail_errno("stat " + path());
      if (st.st_dev != l.dev || st.st_ino != l.ino) {
        return fail(Errc::InvalidState, path() + "/" + l.name + " moved while it was removed");
      }
      cur = std::move(up);
      if (::unlinkat(cur.get(), l.name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return fail_errno("rmdir " + path() + "/" + l.name);
      }
      continue;
    }
    uint64_t sub_mnt = 0;
    bool is_dir = false;
    if (auto st = mount_id_of(cur.get(), name.c_str(), &sub_mnt, &is_dir); !st) {
      if (st.error().sys_errno == ENOENT) continue;
      return fail(std::move(st.error()).wrap(path() + "/" + name));
    }
    if (!is_dir) {
      if (::unlinkat(cur.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
        return fail_errno("unlink " + path() + "/" + name);
      }
      continue;
    }
    if (sub_mnt != mnt) {
      return fail(Errc::InvalidState, path() + "/" + name + " is a mount point; left in place");
    }
    UniqueFd sub(
        ::openat(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return fail_errno("open " + path() + "/" + name);
    struct stat st {};
    if (::fstat(cur.get(), &st) != 0) return fail_errno("stat " + path());
    stack.push_back(Level{name, st.st_dev, st.st_ino});
    cur = std::move(sub);
  }
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
  HULL_TRY(empty_dir(fd.get(), mnt, path));
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
