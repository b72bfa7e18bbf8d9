#include "common/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "common/io.h"
#include "common/unique_fd.h"

namespace hull {
namespace {

// Depth bound for remove_tree: the trees it removes are shallow; deeper means
// something is wrong.
constexpr int kMaxTreeDepth = 64;

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

// Empties the directory `dfd` (in mount `mnt`); `where` names it in errors.
Status empty_dir(int dfd, uint64_t mnt, const std::string& where, TreeFiles files, int depth) {
  if (depth > kMaxTreeDepth) return fail(Errc::InvalidState, where + ": directory tree too deep");
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
    std::string at = where + "/" + name;
    uint64_t sub_mnt = 0;
    bool is_dir = false;
    if (auto s = mount_id_of(dfd, name.c_str(), &sub_mnt, &is_dir); !s) {
      if (s.error().sys_errno == ENOENT) continue;
      result = fail(std::move(s.error()).wrap(at));
      break;
    }
    if (is_dir) {
      if (sub_mnt != mnt) {
        result = fail(Errc::InvalidState, at + " is a mount point; left in place");
        break;
      }
      UniqueFd sub(::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        result = fail_errno("open " + at);
        break;
      }
      if (auto s = empty_dir(sub.get(), mnt, at, files, depth + 1); !s) {
        result = s;
        break;
      }
      if (::unlinkat(dfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        result = fail_errno("rmdir " + at);
        break;
      }
    } else if (files == TreeFiles::Unlink && ::unlinkat(dfd, name.c_str(), 0) != 0 &&
               errno != ENOENT) {
      result = fail_errno("unlink " + at);
      break;
    }
  }
  ::closedir(d);
  return result;
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
  HULL_TRY(empty_dir(fd.get(), mnt, path, files, 0));
  fd.reset();
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return fail_errno("rmdir " + path);
  return {};
}

}  // namespace hull
