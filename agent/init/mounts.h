// The guest's own filesystems, mounted by the agent as PID 1 before anything else runs.
//
// These mounts belong to the machine for its whole life (the VM powers off with them in
// place), so unlike host code there is no guard that unmounts them.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace hull::agent::init {

struct MountSpec {
  std::string source;
  std::string target;  // created (mode `dir_mode`) if missing
  std::string fstype;
  unsigned long flags = 0;
  std::string data;
  mode_t dir_mode = 0755;
};

// Makes "/" a bind mount of the initramfs instead of the initramfs itself (bind it onto a
// directory, move that over "/", chroot). The kernel refuses pivot_root away from the initial
// rootfs; after this step container inits can pivot_root like runc instead of falling back to
// MS_MOVE + chroot, which a process with CAP_SYS_CHROOT could climb out of. No file is copied:
// the guest RAM cost is nil. Run once, as PID 1, before anything else is mounted.
Status leave_initramfs();

// proc, sysfs, devtmpfs, devpts (newinstance, ptmxmode=0666), /dev/shm, cgroup2 at
// /sys/fs/cgroup and /run, in mount order (a target's parent is mounted first). Pure.
std::vector<MountSpec> base_mounts();

// Mounts every spec in order, creating targets; stops at the first failure, naming it.
Status mount_all(const std::vector<MountSpec>& mounts);

// /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr symlinks (devtmpfs does not create them).
Status create_dev_symlinks();

// Names listed in a cgroup.controllers file ("cpuset cpu io memory pids\n"). Pure.
std::vector<std::string> parse_controllers(std::string_view text);

// Enables, in `cgroup_dir`/cgroup.subtree_control, every controller listed in its
// cgroup.controllers, so container cgroups below can use them all. Returns the enabled list;
// an error names each controller that could not be enabled.
Result<std::vector<std::string>> enable_all_controllers(const std::string& cgroup_dir);

}  // namespace hull::agent::init
