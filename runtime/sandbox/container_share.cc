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
  if (::mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) {
      return fail(Errc::Exists, "container " + container_id + " is already shared (" + dir + ")");
    }
    return fail_errno("mkdir " + dir);
  }
  s.container_dir_ = dir;  // from here the destructor cleans up
  if (::mkdir(target.c_str(), 0755) != 0) return fail_errno("mkdir " + target);
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
  std::string dir = std::exchange(container_dir_, {});
  guest_path_.clear();
  if (::rmdir((dir + "/rootfs").c_str()) != 0 && errno != ENOENT) {
    return fail_errno("rmdir " + dir + "/rootfs");
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return fail_errno("rmdir " + dir);
  return {};  // containers/ stays; the sandbox directory takes it along
}

}  // namespace hull::sandbox
