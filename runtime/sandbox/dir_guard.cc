#include "runtime/sandbox/dir_guard.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "common/file.h"

namespace hull::sandbox {

Result<DirGuard> DirGuard::create(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) {
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
  HULL_TRY(make_dirs(path));
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return fail_errno("stat " + path);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return fail(Errc::InvalidState,
                path + " must be a directory of uid " + std::to_string(::geteuid()) +
                    " that only it can write (found uid " + std::to_string(st.st_uid) + ", mode " +
                    mode + (S_ISLNK(st.st_mode) ? ", a symlink" : "") + "): remove it and retry");
  }
  return {};
}

}  // namespace hull::sandbox
