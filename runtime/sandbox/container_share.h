// Putting a container's rootfs where the guest sees it: a bind mount of the
// host directory at <sandbox>/shared/containers/<cid>/rootfs (DESIGN.md "One
// sandbox on the host"). The sandbox's shared/ is a shared-propagation mount,
// so the bind reaches virtiofsd's mount namespace and the guest finds the
// rootfs at <guest shared dir>/containers/<cid>/rootfs; the spec sent to the
// agent names it relative to the shared dir (guest_rootfs_path).
//
//   auto share = SharedRootfs::create(sb.paths().shared_dir, "c1", "/bundle/rootfs", true);
//   spec.root.path = share->guest_path();     // "containers/c1/rootfs"
//   ... CreateContainer ... RemoveContainer ...
//   share->remove();                          // or the destructor: unmount, rmdir
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"
#include "runtime/sandbox/mount_guard.h"

namespace hull::sandbox {

// "containers/<cid>/rootfs": the rootfs path relative to the shared directory.
std::string guest_rootfs_path(std::string_view container_id);

class SharedRootfs {
 public:
  // Bind-mounts `host_rootfs` (recursively; read-only when `readonly`) at
  // <shared_dir>/containers/<cid>/rootfs. The id is validated first;
  // Errc::Exists while that container is shared.
  static Result<SharedRootfs> create(const std::string& shared_dir, const std::string& container_id,
                                     const std::string& host_rootfs, bool readonly);
  SharedRootfs() = default;
  SharedRootfs(SharedRootfs&&) noexcept = default;
  SharedRootfs& operator=(SharedRootfs&& o) noexcept;
  SharedRootfs(const SharedRootfs&) = delete;
  SharedRootfs& operator=(const SharedRootfs&) = delete;
  ~SharedRootfs() { (void)remove(); }

  const std::string& guest_path() const { return guest_path_; }
  const std::string& host_path() const { return mount_.target(); }

  // Unmounts and removes containers/<cid> (idempotent).
  Status remove();

 private:
  MountGuard mount_;
  std::string container_dir_;  // <shared>/containers/<cid>; empty once removed
  std::string guest_path_;
};

}  // namespace hull::sandbox
