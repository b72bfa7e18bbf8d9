#include "common/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "common/io.h"
#include "common/unique_fd.h"

namespace hull {
namespace {

// The mount id of `name` relative to `dfd` ("" = dfd itself) and whether it
// is a directory. A bind mount from the same file system has the same st_dev,
// so only the mount id tells a mount point apart.
Status mount_id_of(int dfd, const char* name, uint64_t* mnt_id, bool* is_dir) {
  struct statx stx {};
  int flags = AT_SYMLINK_NOFOLLOW | (name[0] == '\0' ? AT_EMPTY_PATH : 0);
  if (::statx(dfd, name, flags, STATX_TYPE | STATX_MNT_ID, &stx) != 0) return fail_errno("statx");
  if (!(stx.stx_mask & STATX_MNT_ID)) return fail(Errc::Unsupported, "statx: no mount id");
  *mnt_id = stx.stx_mnt_id;
  *is_dir = S_ISDIR(stx.stx_mode);
  return {};
}

// Up to kEntryBatch entries of directory `dfd` other than . and .. (with
// `dirs_only`, only subdirectories), from one pass over it; none when it is
// empty. A batch, not one name per pass: every pass reads the directory from
// its start, and one pass per entry made a directory of n files cost n^2.
constexpr size_t kEntryBatch = 65536;
Result<std::vector<std::string>> next_entries(int dfd, const std::string& where, bool dirs_only) {
  int dup = ::openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return fail_errno("open " + where);
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return fail_errno("opendir " + where);
  }
  std::vector<std::string> names;
  errno = 0;
  while (names.size() < kEntryBatch) {
    dirent* e = ::readdir(d);
    if (!e) break;
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (dirs_only && e->d_type != DT_DIR) {
      struct stat st {};
      if (e->d_type != DT_UNKNOWN ||
          ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
        continue;
    }
    names.emplace_back(n);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (names.empty() && err != 0) return fail_errno("readdir " + where, err);
  return names;
}

// Empties the directory `top` (in mount `mnt`); `where` names it in errors.
// Depth-first without recursion and with one directory open at a time, so a
// tree of any depth (a guest can make one thousands of levels deep in its
// share) goes without running out of stack or descriptors: it climbs back
// with "..", checking each parent is the directory it came from.
Status empty_dir(int top, uint64_t mnt, const std::string& where, TreeFiles files) {
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
  std::vector<std::string> batch;  // entries of cur still to remove, last first
  for (;;) {
    if (batch.empty()) {
      HULL_ASSIGN(more, next_entries(cur.get(), path(), files == TreeFiles::Keep));
      batch = std::move(more);
      std::reverse(batch.begin(), batch.end());
    }
    if (batch.empty()) {
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
    const std::string name = std::move(batch.back());
    batch.pop_back();
    uint64_t sub_mnt = 0;
    bool is_dir = false;
    if (auto st = mount_id_of(cur.get(), name.c_str(), &sub_mnt, &is_dir); !st) {
      if (st.error().sys_errno == ENOENT) continue;
      return fail(std::move(st.error()).wrap(path() + "/" + name));
    }
    if (!is_dir) {
      if (files == TreeFiles::Keep) {  // next_entries gave a directory that is one no more
        return fail(Errc::InvalidState, path() + "/" + name + " changed while it was removed");
      }
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
    batch.clear();  // the rest of this directory is read again when the walk is back in it
  }
}

}  // namespace

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno(path);
  if (S_ISDIR(st.st_mode)) return fail(Errc::Invalid, path + ": is a directory, expected a file");
  if (S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) > max_bytes) {
    return fail(Errc::Invalid, path + ": file is " + std::to_string(st.st_size) +
                                   " bytes, larger than the limit of " + std::to_string(max_bytes) +
                                   " bytes");
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(path);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return fail(Errc::Invalid, path + ": file is larger than the limit of " +
                                     std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status write_file_atomic(const std::string& path, const std::string& data, int mode) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  std::string tmpl = path + ".tmp-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  UniqueFd fd(::mkostemp(name.data(), O_CLOEXEC));
  if (!fd) return fail_errno("creating a temporary file next to " + path);
  std::string tmp(name.data());
  auto cleanup_fail = [&](const std::string& what) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail_errno(what, err);
  };
  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) return cleanup_fail("chmod " + tmp);
  if (auto w = write_all(fd.get(), data); !w) {
    errno = w.error().sys_errno;
    return cleanup_fail("writing " + tmp);
  }
  if (::fsync(fd.get()) != 0) return cleanup_fail("fsync " + tmp);
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return cleanup_fail("renaming " + tmp + " to " + path);
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) ::fsync(dfd.get());  // best effort: the rename itself already happened
  return {};
}

Status write_kernel_file(const std::string& path, std::string_view value, KernelWrite how) {
  int trunc = how == KernelWrite::Truncate ? O_TRUNC : 0;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | trunc));
  if (!fd) return fail_errno("open " + path);
  ssize_t n;
  while ((n = ::write(fd.get(), value.data(), value.size())) < 0 && errno == EINTR) {
  }
  if (n < 0) return fail_errno("writing \"" + std::string(value) + "\" to " + path);
  if (static_cast<size_t>(n) != value.size()) {
    return std::unexpected(
        Error{Errc::System, EIO, "short write of \"" + std::string(value) + "\" to " + path});
  }
  return {};
}

Status remove_tree(const std::string& path, TreeFiles files) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    return fail_errno("open " + path);
  }
  uint64_t mnt = 0;
  bool is_dir = false;
  HULL_TRY(wrap(mount_id_of(fd.get(), "", &mnt, &is_dir), path));
  HULL_TRY(empty_dir(fd.get(), mnt, path, files));
  fd.reset();
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return fail_errno("rmdir " + path);
  return {};
}

namespace {

// Why the state directory at `path` (lstat'ed as `st`) is not private, or "".
std::string private_dir_fault(const struct stat& st, const std::string& path) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if (S_ISLNK(st.st_mode)) {
    std::vector<char> buf(4096);
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size() - 1);
    std::string to = n > 0 ? std::string(buf.data(), static_cast<size_t>(n)) : "?";
    return "is a symlink (to " + to + "); hull does not follow one there";
  }
  if (!S_ISDIR(st.st_mode)) return "is not a directory";
  if (st.st_uid != ::geteuid()) {
    return "is owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
           std::to_string(::geteuid()) + " which runs hull";
  }
  if ((st.st_mode & 022) != 0) {
    return std::string("has mode ") + mode + ": group or others may write it";
  }
  return "";
}

std::unexpected<Error> refuse_private_dir(const std::string& path, const std::string& fault) {
  return fail(Errc::InvalidState,
              "state directory " + path + " " + fault +
                  ": remove it (hull creates it mode 0700), make it a directory of uid " +
                  std::to_string(::geteuid()) + " with mode 0700, or choose another --root");
}

Result<UniqueFd> open_checked_at(int parent_fd, const std::string& name, const std::string& path) {
  // Mode 0700 leaves the umask nothing to widen. The umask itself is not
  // touched: it is the whole process's, and a scope that sets and restores it
  // races with the other threads of a multithreaded caller (the shim, the
  // tests' parallel sandboxes), which can end with 077 for everything after.
  if (::mkdirat(parent_fd, name.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail_errno("creating state directory " + path);
  }
  UniqueFd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!fd) {
    int err = errno;
    if ((err == ELOOP || err == ENOTDIR) &&
        ::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return refuse_private_dir(path, private_dir_fault(st, path));
    }
    return fail_errno("opening state directory " + path, err);
  }
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + path);
  if (auto fault = private_dir_fault(st, path); !fault.empty()) {
    return refuse_private_dir(path, fault);
  }
  return fd;
}

}  // namespace

Result<UniqueFd> open_private_dir(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return fail(Errc::Invalid, "state directory must be an absolute path: \"" + path + "\"");
  }
  std::string clean = path;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  if (clean == "/") return fail(Errc::Invalid, "state directory cannot be /");
  size_t slash = clean.rfind('/');
  std::string parent = slash == 0 ? "/" : clean.substr(0, slash);
  std::string name = clean.substr(slash + 1);
  if (name == "." || name == "..") {
    return fail(Errc::Invalid, "state directory must not end in . or ..: \"" + path + "\"");
  }
  UniqueFd pfd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!pfd && errno == ENOENT) {
    // Missing parents: 0700 each, as hull's own.
    for (size_t pos = 1;;) {
      size_t next = parent.find('/', pos);
      std::string part = parent.substr(0, next);
      if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
        return fail_errno("creating " + part + " (a parent of state directory " + path + ")");
      }
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    pfd = UniqueFd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  if (!pfd)
    return fail_errno("opening " + parent + " (the parent of state directory " + path + ")");
  return open_checked_at(pfd.get(), name, clean);
}

Result<UniqueFd> open_private_dir_at(int parent_fd, const std::string& parent_path,
                                     const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return fail(Errc::Invalid, "state directory name must be one path component: \"" + name + "\"");
  }
  return open_checked_at(parent_fd, name, parent_path + "/" + name);
}

}  // namespace hull
