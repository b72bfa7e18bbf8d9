#include "runtime/container/paths.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <tuple>

#include "runtime/share/rootfs.h"

namespace hull::container {

Result<std::string> self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return fail_errno("readlink /proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::string> find_hull_vsock() {
  HULL_ASSIGN(exe, self_exe());
  std::string next = exe.substr(0, exe.rfind('/')) + "/hull-vsock";
  if (::access(next.c_str(), X_OK) == 0) return next;
  const char* env = std::getenv(kHullVsockEnv);
  if (env && *env) {
    if (::access(env, X_OK) == 0) return std::string(env);
    return fail(Errc::NotFound, std::string("$") + kHullVsockEnv + "=" + env +
                                    " is not an executable file; point it at hull-vsock");
  }
  return fail(Errc::NotFound, "hull-vsock not found next to " + exe + " and $" + kHullVsockEnv +
                                  " is not set; install hull and hull-vsock together "
                                  "(cmake --install) or set $" +
                                  kHullVsockEnv);
}

void resolve_guest_image(config::Config& cfg) {
  auto exe = self_exe();
  if (!exe) return;
  std::string share = exe->substr(0, exe->rfind('/')) + "/../share/hull";
  config::Vm defaults;
  for (auto [path, def, name] : {std::tuple{&cfg.vm.kernel, defaults.kernel, "/vmlinux"},
                                 std::tuple{&cfg.vm.initrd, defaults.initrd, "/initrd.img"}}) {
    if (*path != def) continue;
    // Resolved: the jail binds it by a clean absolute path, and the build
    // tree's share/hull is a symlink reached through "..".
    std::string alt = share + name;
    if (::access(alt.c_str(), R_OK) != 0) continue;
    if (char* real = ::realpath(alt.c_str(), nullptr)) {
      *path = real;
      std::free(real);
    }
  }
}

Result<UniqueFd> open_shared_rootfs(const Record& r) {
  const oci::State& s = r.state;
  if (r.sandbox_dir.empty()) {
    return fail(Errc::InvalidState, "container " + s.id + ": state.json names no sandbox");
  }
  const std::string& dir = r.sandbox_dir;
  std::string rel = "shared/" + sandbox::guest_rootfs_path(s.id);
  UniqueFd base(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!base) return fail_errno("container " + s.id + ": opening its sandbox " + dir);
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, base.get(), rel.c_str(), &how, sizeof how)));
  if (!fd)
    return fail_errno("container " + s.id + ": opening its shared rootfs " + dir + "/" + rel);
  struct stat got {};
  struct stat want {};
  if (::fstat(fd.get(), &got) != 0) return fail_errno("stat " + dir + "/" + rel);
  if (::stat(s.rootfs.c_str(), &want) != 0) return fail_errno("root.path " + s.rootfs);
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
    return fail(Errc::GuestProtocol, "container " + s.id + ": " + dir + "/" + rel +
                                         " is not the bind mount of root.path " + s.rootfs);
  }
  return fd;
}

}  // namespace hull::container
