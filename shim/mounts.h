// The task's rootfs mounts (CreateTaskRequest.rootfs), applied on the host
// onto <bundle>/rootfs in order, as containerd's mount.All does for runc: an
// overlayfs snapshotter sends one {type "overlay", options [index=off,
// workdir=.., upperdir=.., lowerdir=..]}, a native one a bind. The mounted
// rootfs is then shared into the VM by virtio-fs (sandbox::SharedRootfs).
//
// plan_mount() turns a mount's options into mount(2) flags and data the way
// containerd's parseMountOptions does; RootfsMounts owns what it mounted and
// detaches it (every layer) when it goes away.
#pragma once

#include <sys/mount.h>

#include <string>
#include <vector>

#include "common/error.h"

namespace hull::shim {

struct MountRequest {
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct MountPlan {
  unsigned long flags = 0;        // without the propagation flags
  unsigned long propagation = 0;  // MS_SHARED/MS_PRIVATE/MS_SLAVE/MS_UNBINDABLE (| MS_REC)
  std::string data;               // the options that are not flags, comma-joined
  // A read-only bind needs a second, remounting call to become read-only.
  bool remount_readonly = false;
};

// Mount data must fit a page (the kernel copies one).
inline constexpr size_t kMaxMountDataBytes = 4095;

// Pure. Errc::Unsupported for "loop" (no loop devices in the shim) and
// Errc::Invalid for data longer than kMaxMountDataBytes (naming the type).
Result<MountPlan> plan_mount(const MountRequest& m);

class RootfsMounts {
 public:
  RootfsMounts() = default;
  RootfsMounts(RootfsMounts&& o) noexcept;
  RootfsMounts& operator=(RootfsMounts&& o) noexcept;
  RootfsMounts(const RootfsMounts&) = delete;
  RootfsMounts& operator=(const RootfsMounts&) = delete;
  ~RootfsMounts() { (void)unmount(); }

  // Mounts each of `mounts` on `target` in order; on failure the ones made
  // are detached again. No mounts: nothing to do (the rootfs is in place).
  static Result<RootfsMounts> mount_all(const std::vector<MountRequest>& mounts,
                                        const std::string& target);

  // Detaches every mount stacked on the target (idempotent).
  Status unmount();

 private:
  std::string target_;
  size_t count_ = 0;
};

// Detaches everything mounted on `target` (each stacked layer), as
// containerd's mount.UnmountAll; a target that is not a mount point is fine.
Status unmount_all(const std::string& target);

}  // namespace hull::shim
