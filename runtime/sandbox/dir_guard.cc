#include "runtime/sandbox/dir_guard.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "common/file.h"

namespace hull::sandbox {

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
