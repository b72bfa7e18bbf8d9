#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/unique_fd.h"

namespace hull {

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
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return cleanup_fail("writing " + tmp);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return cleanup_fail("fsync " + tmp);
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return cleanup_fail("renaming " + tmp + " to " + path);
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) ::fsync(dfd.get());  // best effort: the rename itself already happened
  return {};
}

namespace {

// Restores the umask it replaced.
class UmaskScope {
 public:
  explicit UmaskScope(mode_t m) : old_(::umask(m)) {}
  ~UmaskScope() { ::umask(old_); }
  UmaskScope(const UmaskScope&) = delete;
  UmaskScope& operator=(const UmaskScope&) = delete;

 private:
  mode_t old_;
};

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
  {
    UmaskScope mask(077);
    if (::mkdirat(parent_fd, name.c_str(), 0700) != 0 && errno != EEXIST) {
      return fail_errno("creating state directory " + path);
    }
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
    UmaskScope mask(077);
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
