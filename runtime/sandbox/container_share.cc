#include "runtime/sandbox/container_share.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "runtime/sandbox/layout.h"

namespace hull::sandbox {

std::string guest_rootfs_path(std::string_view container_id) {
  return "containers/" + std::string(container_id) + "/rootfs";
}

SharedRootfs& SharedRootfs::operator=(SharedRootfs&& o) noexcept {
  if (this != &o) {
    (void)remove();
    mount_ = std::move(o.mount_);
    container_dir_ = std::exchange(o.container_dir_, {});
    guest_path_ = std::exchange(o.guest_path_, {});
  }
  return *this;
}

Result<SharedRootfs> SharedRootfs::create(const std::string& shared_dir,
                                          const std::string& container_id,
                                          const std::string& host_rootfs, bool readonly) {
  HULL_TRY(wrap(validate_sandbox_id(container_id), "container id"));
  struct stat st {};
  if (::stat(host_rootfs.c_str(), &st) != 0) return fail_errno("rootfs " + host_rootfs);
  if (!S_ISDIR(st.st_mode))
    return fail(Errc::Invalid, "rootfs " + host_rootfs + ": not a directory");

  std::string containers = shared_dir + "/containers";
  if (::mkdir(containers.c_str(), 0711) != 0 && errno != EEXIST) {
    return fail_errno("mkdir " + containers);
  }
  SharedRootfs s;
  std::string dir = containers + "/" + container_id;
  std::string target = dir + "/rootfs";
  for (const std::string& d : {dir, target}) {
    if (::mkdir(d.c_str(), d == dir ? 0711 : 0755) != 0 && errno != EEXIST) {
      return fail_errno("mkdir " + d);
    }
  }
  if (is_mount_point(target)) {
    return fail(Errc::Exists, "container " + container_id + " is already shared (" + target + ")");
  }
  s.container_dir_ = dir;  // from here the destructor cleans up
  if (::mount(host_rootfs.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return fail_errno("bind-mounting " + host_rootfs + " at " + target);
  }
  s.mount_ = MountGuard(target);
  if (readonly &&
      ::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    return fail_errno("making " + target + " read-only");
  }
  s.guest_path_ = guest_rootfs_path(container_id);
  return s;
}

Status SharedRootfs::remove() {
  if (container_dir_.empty()) return {};
  HULL_TRY(mount_.unmount());
  container_dir_.clear();
  guest_path_.clear();
  // The empty directories stay until the sandbox directory goes (stop()): the
  // guest keeps virtio-fs dentries of them, and a directory removed and made
  // again under the same name left the guest's next lookup of it hanging.
  return {};
}

}  // namespace hull::sandbox
