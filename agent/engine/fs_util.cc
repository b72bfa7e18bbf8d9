#include "agent/engine/fs_util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/engine/str.h"
#include "common/text.h"

namespace hull::engine {

Result<UniqueFd> open_in_root(int rootfd, std::string_view path, int flags) {
  open_how how{};
  how.flags = static_cast<__u64>(static_cast<unsigned>(flags | O_CLOEXEC));
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string p(path.empty() ? "/" : path);
  for (;;) {
    long fd = ::syscall(SYS_openat2, rootfd, p.c_str(), &how, sizeof(how));
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno == EINTR || errno == EAGAIN) continue;  // EAGAIN: a rename raced the lookup
    return fail_errno(cat("open ", p, " in the rootfs"));
  }
}

std::pair<std::string, std::string> split_parent(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"/", std::string(path)};
  std::string parent(path.substr(0, slash));
  if (parent.empty()) parent = "/";
  return {parent, std::string(path.substr(slash + 1))};
}

Result<UniqueFd> mkdir_all_in_root(int rootfd, std::string_view path, mode_t mode) {
  auto existing = open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
  if (existing) return existing;
  if (existing.error().sys_errno != ENOENT) return existing;
  auto [parent, name] = split_parent(path);
  if (name.empty() || name == "." || name == "..") {
    return fail(Errc::Invalid, cat("cannot create ", quote(path), " in the rootfs"));
  }
  HULL_ASSIGN(pfd, mkdir_all_in_root(rootfd, parent, mode));
  if (::mkdirat(pfd.get(), name.c_str(), mode) < 0 && errno != EEXIST) {
    return fail_errno(cat("mkdir ", path, " in the rootfs"));
  }
  return open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
}

Result<UniqueFd> touch_in_root(int rootfd, std::string_view path, mode_t mode) {
  auto existing = open_in_root(rootfd, path, O_PATH);
  if (existing) return existing;
  if (existing.error().sys_errno != ENOENT) return existing;
  auto [parent, name] = split_parent(path);
  HULL_ASSIGN(pfd, mkdir_all_in_root(rootfd, parent, 0755));
  int fd =
      ::openat(pfd.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0 && errno != EEXIST) return fail_errno(cat("create ", path, " in the rootfs"));
  if (fd >= 0) ::close(fd);
  return open_in_root(rootfd, path, O_PATH);
}

}  // namespace hull::engine
