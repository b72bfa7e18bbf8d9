// /dev inside the container, as runc creates it: the default devices, the
// spec's linux.devices, the /dev symlinks and /dev/ptmx -> pts/ptmx (the pty
// slave goes on /dev/console later, pty.h). Part of mounts.h's sequence
// (setup_dev).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>

#include "agent/engine/device_filter.h"
#include "agent/engine/fs_util.h"
#include "agent/engine/mounts.h"
#include "agent/engine/str.h"
#include "common/io.h"

namespace hull::engine {
namespace {

// runc's /dev symlinks; /dev/core only where the kernel has /proc/kcore.
constexpr std::array<std::pair<const char*, const char*>, 4> kDevSymlinks{{
    {"/proc/self/fd", "fd"},
    {"/proc/self/fd/0", "stdin"},
    {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"},
}};

// The restoring half of a umask(0) guard: device modes are exact.
class UmaskGuard {
 public:
  UmaskGuard() : old_(::umask(0)) {}
  ~UmaskGuard() { ::umask(old_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

 private:
  mode_t old_;
};

Status create_device(const DevicePlan& d, int rootfd, bool userns) {
  auto [parent, name] = split_parent(d.path);
  HULL_ASSIGN(pfd, mkdir_all_in_root(rootfd, parent, 0755));
  if (!userns) {
    if (::mknodat(pfd.get(), name.c_str(), d.mode, d.dev) < 0) {
      if (errno == EEXIST) return {};  // the image or a mount already has it
      if (errno != EPERM) return fail_errno(cat(d.field, ": mknod ", d.path));
    } else {
      if (::fchownat(pfd.get(), name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0) {
        return fail_errno(cat(d.field, ": chown ", d.path));
      }
      return {};
    }
  }
  // No mknod in a user namespace: bind the agent's node of the same path.
  HULL_ASSIGN(dest, touch_in_root(rootfd, d.path, 0));
  if (::mount(d.path.c_str(), fd_path(dest.get()).c_str(), nullptr, MS_BIND, nullptr) < 0) {
    return fail_errno(cat(d.field, ": bind ", d.path));
  }
  return {};
}

bool dev_is_bind_mounted(const ContainerPlan& plan) {
  for (const auto& m : plan.mounts) {
    if (m.destination == "/dev" && m.opts.is_bind()) return true;
  }
  return false;
}

}  // namespace

Status setup_dev(const ContainerPlan& plan, int rootfd, const RootfsContext& ctx) {
  bool setup_default = !dev_is_bind_mounted(plan);
  UmaskGuard umask0;
  if (setup_default) {
    for (const DefaultDevice& dd : default_devices()) {
      if (!dd.path) continue;  // a rule only
      DevicePlan d{cat("default device ", dd.path),
                   dd.path,
                   S_IFCHR | 0666,
                   makedev(static_cast<unsigned>(dd.major), static_cast<unsigned>(dd.minor)),
                   0,
                   0};
      HULL_TRY(create_device(d, rootfd, ctx.userns));
    }
  }
  for (const auto& d : plan.devices) {
    HULL_TRY(create_device(d, rootfd, ctx.userns));
    struct stat st {};
    HULL_ASSIGN(fd, open_in_root(rootfd, d.path, O_PATH));
    if (::fstat(fd.get(), &st) == 0 && (st.st_mode & 07777) != (d.mode & 07777)) {
      if (::chmod(fd_path(fd.get()).c_str(), d.mode & 07777) < 0 && !ctx.userns) {
        return fail_errno(cat(d.field, ".fileMode: chmod ", d.path));
      }
    }
  }
  if (setup_default) {
    HULL_ASSIGN(dev, mkdir_all_in_root(rootfd, "/dev", 0755));
    for (const auto& [target, name] : kDevSymlinks) {
      if (::symlinkat(target, dev.get(), name) < 0 && errno != EEXIST)
        return fail_errno(cat("symlink /dev/", name));
    }
    if (::access("/proc/kcore", F_OK) == 0 && ::symlinkat("/proc/kcore", dev.get(), "core") < 0 &&
        errno != EEXIST) {
      return fail_errno("symlink /dev/core");
    }
    if (::unlinkat(dev.get(), "ptmx", 0) < 0 && errno != ENOENT)
      return fail_errno("remove /dev/ptmx");
    if (::symlinkat("pts/ptmx", dev.get(), "ptmx") < 0) return fail_errno("symlink /dev/ptmx");
  }
  return {};
}

}  // namespace hull::engine
