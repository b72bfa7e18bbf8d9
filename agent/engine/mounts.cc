#include "agent/engine/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "agent/engine/fs_util.h"
#include "agent/engine/str.h"
#include "common/file.h"
#include "common/io.h"
#include "common/text.h"

namespace hull::engine {
namespace {

struct MountInfo {
  std::string mount_point;
  bool shared = false;
};

// /proc/self/mountinfo: mount points (octal escapes decoded) and "shared:N".
std::vector<MountInfo> read_mountinfo() {
  std::vector<MountInfo> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, devno, root, mp, opts, field;
    ls >> id >> parent >> devno >> root >> mp >> opts;
    MountInfo mi;
    for (size_t i = 0; i < mp.size(); ++i) {
      if (mp[i] == '\\' && i + 3 < mp.size()) {
        mi.mount_point +=
            static_cast<char>((mp[i + 1] - '0') * 64 + (mp[i + 2] - '0') * 8 + (mp[i + 3] - '0'));
        i += 3;
      } else {
        mi.mount_point += mp[i];
      }
    }
    while (ls >> field && field != "-") {
      if (field.rfind("shared:", 0) == 0) mi.shared = true;
    }
    out.push_back(std::move(mi));
  }
  return out;
}

// A filesystem (not bind) mount on /dev ("/dev/", "//dev" alike).
bool is_dev_mount(const MountPlan& m) {
  if (m.opts.is_bind()) return false;
  std::string_view d = m.destination;
  size_t i = d.find_first_not_of('/');
  if (i == std::string_view::npos) return false;
  d.remove_prefix(i);
  while (!d.empty() && d.back() == '/') d.remove_suffix(1);
  return d == "dev";
}

// The first /dev filesystem mount of the spec, when it asks for read-only.
const MountPlan* readonly_dev_mount(const ContainerPlan& plan) {
  for (const auto& m : plan.mounts) {
    if (is_dev_mount(m)) return (m.opts.flags & MS_RDONLY) ? &m : nullptr;
  }
  return nullptr;
}

bool is_under(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

// Propagation and the recursive attributes ("rro", ...) of the mount at
// `fd` (O_PATH, the mount's root).
Status apply_propagation_and_attrs(const MountPlan& m, int fd) {
  for (unsigned long p : m.opts.propagation) {
    if (::mount(nullptr, fd_path(fd).c_str(), nullptr, p, nullptr) < 0) {
      return fail_errno(cat(m.field, ": set propagation on ", m.destination));
    }
  }
  if (m.opts.rec_attr_set || m.opts.rec_attr_clr) {
    mount_attr attr{};
    attr.attr_set = m.opts.rec_attr_set;
    attr.attr_clr = m.opts.rec_attr_clr;
    if (::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
        0) {
      return fail_errno(cat(m.field, ": recursive mount attributes on ", m.destination));
    }
  }
  return {};
}

bool has_propagation_or_attrs(const MountPlan& m) {
  return !m.opts.propagation.empty() || m.opts.rec_attr_set || m.opts.rec_attr_clr;
}

// The bind's own flags (ro, nosuid, ...) on the mount at `fd`.
Status remount_bind_flags(const MountPlan& m, int fd) {
  auto r = remount_bind(fd_path(fd),
                        m.opts.flags & ~static_cast<unsigned long>(MS_BIND | MS_REC | MS_REMOUNT));
  if (!r) return fail(std::move(r.error()).wrap(cat(m.field, ": remount ", m.destination)));
  return {};
}

// Walks into the bind's submounts (MountPlan::submounts) so that the kernel
// mounts each one now, with the flags the bind has before its own are
// applied: on the host they are mounts of their own, which an rbind's "ro"
// or "nosuid" does not reach (runc). A submount reached later would take the
// bind's flags. Returns whether anything was walked into.
Result<bool> reach_submounts(const MountPlan& m, int rootfd) {
  if (!(m.opts.flags & MS_REC) || m.submounts.empty()) return false;
  for (const auto& sub : m.submounts) {
    auto fd = open_in_root(rootfd, cat(m.destination, "/", sub), O_PATH | O_DIRECTORY);
    // Gone or replaced on the host since create began: nothing to mount there.
    if (!fd && fd.error().sys_errno != ENOENT && fd.error().sys_errno != ENOTDIR) {
      return fail(std::move(fd.error()).wrap(cat(m.field, ": submount ", sub)));
    }
  }
  return true;
}

// The source is cloned with open_tree(AT_NO_AUTOMOUNT) and moved onto the
// destination rather than bound with mount(2), which would trigger an
// automount on it: in the guest every directory the host bound below the
// virtio-fs share (a volume, the container's rootfs) is a submount point, and
// the automounted submount's root shows as "/" in mountinfo. The clone is the
// share's mount rooted at the source, so mountinfo names the source as runc's
// bind mounts name their host path (runtime-tools compares its last
// component). The submount is automounted on top of the clone once the
// container walks into it, with the clone's flags (ro stays ro), and so is
// each submount below it: an rbind's own flags are applied after
// reach_submounts has mounted those. Recursive attributes ("rro") go on the
// clone and so reach everything mounted on it, and what is mounted later
// takes them along.
Status bind_entry(const MountPlan& m, int rootfd, const RootfsContext& ctx) {
  std::string src = m.source[0] == '/' ? m.source : cat(ctx.bundle, "/", m.source);
  struct stat st {};
  if (::stat(src.c_str(), &st) < 0) return fail_errno(cat(m.field, ".source: ", src));
  Result<UniqueFd> dest = S_ISDIR(st.st_mode) ? mkdir_all_in_root(rootfd, m.destination, 0755)
                                              : touch_in_root(rootfd, m.destination, 0644);
  if (!dest) return fail(std::move(dest.error()).wrap(m.field + ".destination"));
  unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_NO_AUTOMOUNT |
                        ((m.opts.flags & MS_REC) ? AT_RECURSIVE : 0u);
  UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, src.c_str(), tree_flags)));
  if (!tree) return fail_errno(cat(m.field, ": bind ", src, " on ", m.destination));
  if (::syscall(SYS_move_mount, tree.get(), "", dest->get(), "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    return fail_errno(cat(m.field, ": bind ", src, " on ", m.destination));
  }
  if (!m.opts.bind_needs_remount() && !has_propagation_or_attrs(m)) return {};
  // The clone, not whatever gets automounted on it (no O_DIRECTORY: opening
  // it mounts nothing).
  HULL_ASSIGN(clone, open_in_root(rootfd, m.destination, O_PATH));
  if (m.opts.bind_needs_remount()) {
    HULL_ASSIGN(reached, reach_submounts(m, rootfd));
    if (reached) {
      // The source's own submount, now stacked on the clone, is what the
      // container sees at the destination.
      HULL_ASSIGN(top, open_in_root(rootfd, m.destination, O_PATH));
      HULL_TRY(remount_bind_flags(m, top.get()));
    }
    HULL_TRY(remount_bind_flags(m, clone.get()));
  }
  return apply_propagation_and_attrs(m, clone.get());
}

// proc and sysfs go on a directory of the rootfs itself, never through a
// symlink or onto a file (runc's check, with runc's words).
Status check_ordinary_directory(const MountPlan& m, int rootfd) {
  if (m.type != "proc" && m.type != "sysfs") return {};
  auto fd = open_in_root(rootfd, m.destination, O_PATH | O_NOFOLLOW);
  if (!fd) {
    if (fd.error().sys_errno == ENOENT) return {};  // created below
    return fail(std::move(fd.error()).wrap(m.field + ".destination"));
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return fail_errno(cat(m.field, ": stat ", m.destination));
  if (S_ISDIR(st.st_mode)) return {};
  const char* what = S_ISLNK(st.st_mode) ? "a symlink" : "not a directory";
  return fail(Errc::Invalid,
              cat(m.field, ": error mounting ", quote(m.source.empty() ? m.type : m.source),
                  " to rootfs at ", quote(m.destination), ": filesystem ", quote(m.type),
                  " must be mounted on ordinary directory (", m.destination, " in the rootfs is ",
                  what, "; make it a directory)"));
}

Status fs_entry(const MountPlan& m, int rootfd, const RootfsContext& ctx) {
  HULL_TRY(check_ordinary_directory(m, rootfd));
  HULL_ASSIGN(dest, mkdir_all_in_root(rootfd, m.destination, 0755));
  const char* src = m.source.empty() ? m.type.c_str() : m.source.c_str();
  std::string target = fd_path(dest.get());
  // A read-only /dev is mounted read-write: the devices, /dev/pts and the
  // console are made in it first; finish_rootfs makes it read-only (runc).
  unsigned long flags = m.opts.flags;
  if (is_dev_mount(m)) flags &= ~static_cast<unsigned long>(MS_RDONLY);
  if (::mount(src, target.c_str(), m.type.c_str(), flags,
              m.opts.data.empty() ? nullptr : m.opts.data.c_str()) == 0) {
    return {};
  }
  int err = errno;
  // In a user namespace without its own network namespace, sysfs (and
  // mqueue without an ipc namespace) cannot be mounted: bind the agent's, as runc does.
  std::string host = m.type == "sysfs" ? "/sys" : m.type == "mqueue" ? "/dev/mqueue" : "";
  if ((err == EPERM || err == EBUSY) && ctx.userns && !host.empty()) {
    if (::mount(host.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      return fail_errno(cat(m.field, ": bind ", host, " on ", m.destination));
    }
    unsigned long keep = m.opts.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (keep) {
      HULL_ASSIGN(again, open_in_root(rootfd, m.destination, O_PATH));
      HULL_TRY(remount_bind(fd_path(again.get()), keep));
    }
    return {};
  }
  return fail_errno(cat(m.field, ": mount ", m.type, " on ", m.destination), err);
}

Status ms_move_root(const std::string& rootfs) {
  // The initramfs cannot be pivoted away: detach everything outside the
  // rootfs (this is the container's copy of the mount table), then move the
  // rootfs over "/" and chroot into it (runc's --no-pivot).
  auto mounts = read_mountinfo();
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    const std::string& mp = it->mount_point;
    if (mp == "/" || is_under(rootfs, mp) || is_under(mp, rootfs)) continue;
    ::umount2(mp.c_str(), MNT_DETACH);  // best effort: a parent detach may have taken it already
  }
  if (::mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0)
    return fail_errno("move the rootfs to /");
  if (::chroot(".") < 0) return fail_errno("chroot into the rootfs");
  if (::chdir("/") < 0) return fail_errno("chdir /");
  return {};
}

}  // namespace

Status remount_bind(const std::string& path, unsigned long flags) {
  unsigned long base = MS_BIND | MS_REMOUNT;
  if (::mount(nullptr, path.c_str(), nullptr, base | flags, nullptr) == 0) return {};
  if (errno != EPERM) return fail_errno(cat("remount ", path));
  struct statvfs sv {};
  if (::statvfs(path.c_str(), &sv) < 0) return fail_errno(cat("statvfs ", path));
  unsigned long locked = 0;
  if (sv.f_flag & ST_NOSUID) locked |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) locked |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) locked |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) locked |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) locked |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) locked |= MS_RELATIME;
  if (sv.f_flag & ST_RDONLY) locked |= MS_RDONLY;
  if (::mount(nullptr, path.c_str(), nullptr, base | flags | locked, nullptr) < 0) {
    return fail_errno(cat("remount ", path));
  }
  return {};
}

Status prepare_root(const ContainerPlan& plan, const RootfsContext& ctx) {
  unsigned long prop = plan.rootfs_propagation ? plan.rootfs_propagation : (MS_SLAVE | MS_REC);
  if (::mount(nullptr, "/", nullptr, prop, nullptr) < 0)
    return fail_errno("linux.rootfsPropagation: set on /");
  // pivot_root refuses a new root whose parent mount is shared.
  std::string parent = split_parent(ctx.rootfs).first;
  const MountInfo* best = nullptr;
  auto mounts = read_mountinfo();
  for (const auto& mi : mounts) {
    if (is_under(parent, mi.mount_point) &&
        (!best || mi.mount_point.size() >= best->mount_point.size()))
      best = &mi;
  }
  if (best && best->shared &&
      ::mount(nullptr, best->mount_point.c_str(), nullptr, MS_PRIVATE, nullptr) < 0) {
    return fail_errno(cat("make ", best->mount_point, " private"));
  }
  if (::mount(ctx.rootfs.c_str(), ctx.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    return fail_errno(cat("root.path: bind ", ctx.rootfs, " on itself"));
  }
  return {};
}

Status mount_all(const ContainerPlan& plan, int rootfd, const RootfsContext& ctx) {
  for (const auto& m : plan.mounts) {
    if (m.opts.is_bind()) {
      HULL_TRY(bind_entry(m, rootfd, ctx));
      continue;
    }
    HULL_TRY(fs_entry(m, rootfd, ctx));
    if (has_propagation_or_attrs(m)) {
      // Reopened: the fd used for mounting points below the new mount.
      HULL_ASSIGN(fd, open_in_root(rootfd, m.destination, O_PATH));
      HULL_TRY(apply_propagation_and_attrs(m, fd.get()));
    }
  }
  auto cwd = mkdir_all_in_root(rootfd, plan.process.cwd, 0755);
  if (!cwd) return fail(std::move(cwd.error()).wrap("process.cwd"));
  return {};
}

Status pivot_into(const RootfsContext& ctx) {
  UniqueFd oldroot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!oldroot) return fail_errno("open /");
  UniqueFd newroot(::open(ctx.rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!newroot) return fail_errno(cat("open ", ctx.rootfs));
  if (::fchdir(newroot.get()) < 0) return fail_errno("chdir to the rootfs");
  if (::syscall(SYS_pivot_root, ".", ".") < 0) {
    if (errno == EINVAL) return ms_move_root(ctx.rootfs);
    return fail_errno("pivot_root");
  }
  // The old root is now stacked under "."; detach it without propagating the
  // unmount anywhere.
  if (::fchdir(oldroot.get()) < 0) return fail_errno("chdir to the old root");
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
    return fail_errno("make the old root rslave");
  if (::umount2(".", MNT_DETACH) < 0) return fail_errno("detach the old root");
  if (::chdir("/") < 0) return fail_errno("chdir /");
  return {};
}

Status finish_rootfs(const ContainerPlan& plan) {
  if (plan.rootfs_propagation &&
      ::mount(nullptr, "/", nullptr, plan.rootfs_propagation, nullptr) < 0) {
    return fail_errno("linux.rootfsPropagation: set on the new /");
  }
  for (const auto& [key, value] : plan.sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i) {
      if (path[i] == '.') path[i] = '/';
    }
    auto r = write_kernel_file(path, value);
    if (!r) return fail(std::move(r.error()).wrap(cat("linux.sysctl.", key)));
  }
  for (size_t i = 0; i < plan.readonly_paths.size(); ++i) {
    const std::string& p = plan.readonly_paths[i];
    if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      return fail_errno(cat("linux.readonlyPaths[", i, "]: bind ", p));
    }
    auto r = remount_bind(p, MS_RDONLY);
    if (!r) return fail(std::move(r.error()).wrap(cat("linux.readonlyPaths[", i, "]")));
  }
  for (size_t i = 0; i < plan.masked_paths.size(); ++i) {
    const std::string& p = plan.masked_paths[i];
    struct stat st {};
    if (::stat(p.c_str(), &st) < 0) {
      if (errno == ENOENT) continue;
      return fail_errno(cat("linux.maskedPaths[", i, "]: stat ", p));
    }
    int rc = S_ISDIR(st.st_mode) ? ::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, nullptr)
                                 : ::mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr);
    if (rc < 0) return fail_errno(cat("linux.maskedPaths[", i, "]: mask ", p));
  }
  if (const MountPlan* dev = readonly_dev_mount(plan)) {
    auto r = remount_bind(
        "/dev", dev->opts.flags & ~static_cast<unsigned long>(MS_BIND | MS_REC | MS_REMOUNT));
    if (!r) return fail(std::move(r.error()).wrap(cat(dev->field, ": read-only /dev")));
  }
  if (plan.root_readonly) {
    auto r = remount_bind("/", MS_RDONLY);
    if (!r) return fail(std::move(r.error()).wrap("root.readonly"));
  }
  return {};
}

}  // namespace hull::engine
