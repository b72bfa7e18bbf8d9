#include "runtime/share/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "common/container_id.h"
#include "common/io.h"
#include "runtime/sandbox/layout.h"

namespace hull::sandbox {

std::string guest_rootfs_path(std::string_view container_id) {
  return "containers/" + std::string(container_id) + "/rootfs";
}

namespace {

UniqueFd open_dir_at(int dir, const std::string& name) {
  return UniqueFd(::openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

// Bind-mounts `source` (recursively) onto the directory `onto` as a slave of
// the source's mounts: a clone (open_tree) made a slave before it is attached
// below shared/. A plain bind of a source in a shared peer group (the host's
// / on systemd hosts) would join that group, and a mount made later below the
// rootfs (a createContainer hook's bind of a host file into ./lib/x) would
// then appear at the bundle's rootfs on the host too and outlive the
// container. As a slave it still receives the source's later mounts; attached
// below the shared dir it becomes shared as well, with virtiofsd's copy as its
// slave, so what is mounted on it reaches the guest and nothing else.
Status bind_as_slave(const std::string& source, int onto, const std::string& target) {
  UniqueFd tree(
      ::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (!tree) return fail_errno("cloning the mounts at " + source);
  // nodev, nosuid: virtiofsd opens what the guest asks for as host root; a
  // device node in an image (or one a guest made) must not open a host device.
  mount_attr attr{};
  attr.propagation = MS_SLAVE;
  attr.attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
    return fail_errno("making the clone of " + source + " a nodev, nosuid slave mount");
  }
  if (::move_mount(tree.get(), "", onto, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) !=
      0) {
    return fail_errno("bind-mounting " + source + " at " + target);
  }
  return {};
}

}  // namespace

SharedRootfs& SharedRootfs::operator=(SharedRootfs&& o) noexcept {
  if (this != &o) {
    (void)remove();
    containers_fd_ = std::move(o.containers_fd_);
    dir_fd_ = std::move(o.dir_fd_);
    mount_ = std::move(o.mount_);
    container_dir_ = std::exchange(o.container_dir_, {});
    id_ = std::exchange(o.id_, {});
    guest_path_ = std::exchange(o.guest_path_, {});
  }
  return *this;
}

Result<SharedRootfs> SharedRootfs::create(const std::string& shared_dir,
                                          const std::string& container_id,
                                          const std::string& host_rootfs, bool readonly) {
  HULL_TRY(validate_container_id(container_id));
  struct stat st {};
  if (::stat(host_rootfs.c_str(), &st) != 0) return fail_errno("rootfs " + host_rootfs);
  if (!S_ISDIR(st.st_mode))
    return fail(Errc::Invalid, "rootfs " + host_rootfs + ": not a directory");

  std::string containers = shared_dir + "/containers";
  if (::mkdir(containers.c_str(), 0711) != 0 && errno != EEXIST) {
    return fail_errno("mkdir " + containers);
  }
  SharedRootfs s;
  s.containers_fd_ =
      UniqueFd(::open(containers.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!s.containers_fd_) return fail_errno("open " + containers);
  std::string dir = containers + "/" + container_id;
  std::string target = dir + "/rootfs";
  if (::mkdirat(s.containers_fd_.get(), container_id.c_str(), 0711) != 0) {
    if (errno == EEXIST) {
      return fail(Errc::Exists, "container " + container_id + " is already shared (" + dir + ")");
    }
    return fail_errno("mkdir " + dir);
  }
  s.container_dir_ = dir;  // from here the destructor cleans up
  s.id_ = container_id;
  s.dir_fd_ = open_dir_at(s.containers_fd_.get(), container_id);
  if (!s.dir_fd_) return fail_errno("open " + dir);
  if (::mkdirat(s.dir_fd_.get(), "rootfs", 0755) != 0) return fail_errno("mkdir " + target);
  UniqueFd placeholder = open_dir_at(s.dir_fd_.get(), "rootfs");
  if (!placeholder) return fail_errno("open " + target);
  HULL_TRY(bind_as_slave(host_rootfs, placeholder.get(), target));
  s.mount_ = MountGuard(target);
  // rootfs is a mount point now: the guest can no longer rename it.
  if (readonly && ::mount(nullptr, fd_path(s.dir_fd_.get(), "rootfs").c_str(), nullptr,
                          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV | MS_NOSUID, nullptr) != 0) {
    return fail_errno("making " + target + " read-only");
  }
  s.guest_path_ = guest_rootfs_path(container_id);
  return s;
}

Status SharedRootfs::remove() {
  if (container_dir_.empty()) return {};
  if (!mount_.target().empty()) {
    std::string target = mount_.release();  // never unmounted by its path
    if (::umount2(fd_path(dir_fd_.get(), "rootfs").c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 &&
        errno != EINVAL && errno != ENOENT) {
      return fail_errno("unmounting " + target);
    }
  }
  std::string dir = std::exchange(container_dir_, {});
  guest_path_.clear();
  if (::unlinkat(dir_fd_.get(), "rootfs", AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return fail_errno("rmdir " + dir + "/rootfs");
  }
  if (::unlinkat(containers_fd_.get(), id_.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return fail_errno("rmdir " + dir);
  }
  dir_fd_.reset();
  containers_fd_.reset();
  return {};  // containers/ stays; the sandbox directory takes it along
}

}  // namespace hull::sandbox
