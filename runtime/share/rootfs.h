// Putting a container's rootfs where the guest sees it: a bind mount of the
// host directory at <sandbox>/shared/containers/<cid>/rootfs (docs/design.md "One
// sandbox on the host"). The sandbox's shared/ is a shared-propagation mount,
// so the bind reaches virtiofsd's mount namespace and the guest finds the
// rootfs at <guest shared dir>/containers/<cid>/rootfs; the spec sent to the
// agent names it relative to the shared dir (guest_rootfs_path). The bind is
// a slave of the host rootfs's mounts and shared with virtiofsd's copy: a
// mount made below it later (a createContainer hook's) reaches the guest and
// never the host's view of the bundle.
//
//   auto share = SharedRootfs::create(sb.paths().shared_dir, "c1", "/bundle/rootfs", true);
//   spec.root.path = share->guest_path();     // "containers/c1/rootfs"
//   ... CreateContainer ... RemoveContainer ...
//   share->remove();                          // or the destructor: unmount, rmdir
//
// The guest can rename and replace entries of the shared dir through
// virtio-fs (it is untrusted): everything below <shared>/containers is made,
// mounted and removed through descriptors of the directories hull made, so a
// symlink the guest plants cannot lead a mount or an unmount to a host path.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"
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
  SharedRootfs(SharedRootfs&&) noexcept = default;  // members in the order remove() needs
  SharedRootfs& operator=(SharedRootfs&& o) noexcept;
  SharedRootfs(const SharedRootfs&) = delete;
  SharedRootfs& operator=(const SharedRootfs&) = delete;
  ~SharedRootfs() { (void)remove(); }

  const std::string& guest_path() const { return guest_path_; }
  const std::string& host_path() const { return mount_.target(); }

  // Unmounts and removes containers/<cid> (idempotent).
  Status remove();

  // containers/<cid> (O_PATH), for what else is shared below it.
  int dir_fd() const { return dir_fd_.get(); }

 private:
  UniqueFd containers_fd_;     // <shared>/containers (O_PATH)
  UniqueFd dir_fd_;            // containers/<cid> (O_PATH)
  MountGuard mount_;           // its path names the mount in errors; unmounted through dir_fd_
  std::string container_dir_;  // <shared>/containers/<cid>; empty once removed
  std::string id_;
  std::string guest_path_;
};

}  // namespace hull::sandbox
