#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

}  // namespace hull
