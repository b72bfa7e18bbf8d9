// The container's filesystem, built inside its new mount namespace by the
// container init, in runc's order:
//   prepare_root   "/" to rootfsPropagation or rslave, the rootfs's parent
//                  mount private, the rootfs bind-mounted on itself
//   mount_all      the spec's mounts in order (proc and sysfs only on a real
//                  directory; a read-only /dev mounted read-write for now),
//                  then cwd created
//   setup_dev      (devices.cc) default devices, linux.devices, /dev symlinks,
//                  /dev/ptmx -> pts/ptmx
//   pivot_into     pivot_root (MS_MOVE + chroot when the current root is the
//                  initramfs, which cannot be pivoted away)
//   [the console: pty.h]
//   finish_rootfs  rootfsPropagation on the new "/", sysctls, read-only paths,
//                  masked paths, a read-only /dev made so, root.readonly
// Nothing here touches the agent's mount namespace.
#pragma once

#include <string>

#include "agent/engine/plan.h"
#include "common/error.h"

namespace hull::engine {

struct RootfsContext {
  std::string rootfs;   // absolute path in the agent's mount namespace
  std::string bundle;   // relative bind sources are relative to it
  bool userns = false;  // in a new user namespace (mknod and some mounts fail there)
};

Status prepare_root(const ContainerPlan& plan, const RootfsContext& ctx);
Status mount_all(const ContainerPlan& plan, int rootfd, const RootfsContext& ctx);
Status setup_dev(const ContainerPlan& plan, int rootfd, const RootfsContext& ctx);
Status pivot_into(const RootfsContext& ctx);
Status finish_rootfs(const ContainerPlan& plan);

// MS_BIND|MS_REMOUNT|flags on `path`; when the kernel refuses because some
// flags are locked (user namespaces), retries keeping the mount's current
// nosuid/nodev/noexec/atime flags.
Status remount_bind(const std::string& path, unsigned long flags);

}  // namespace hull::engine
