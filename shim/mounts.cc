#include "shim/mounts.h"

#include <cerrno>
#include <string_view>
#include <utility>

namespace hull::shim {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

// containerd 1.6 mount/mount_linux.go parseMountOptions, plus propagation.
constexpr FlagOption kFlags[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

constexpr FlagOption kPropagation[] = {
    {"private", false, MS_PRIVATE},       {"rprivate", false, MS_PRIVATE | MS_REC},
    {"shared", false, MS_SHARED},         {"rshared", false, MS_SHARED | MS_REC},
    {"slave", false, MS_SLAVE},           {"rslave", false, MS_SLAVE | MS_REC},
    {"unbindable", false, MS_UNBINDABLE}, {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

}  // namespace

Result<MountPlan> plan_mount(const MountRequest& m) {
  MountPlan p;
  for (const std::string& o : m.options) {
    if (o == "loop") {
      return fail(Errc::Unsupported, "rootfs mount of type " + m.type + " from " + m.source +
                                         ": option \"loop\" is not supported by the hull shim; "
                                         "use a snapshotter that gives directories (overlayfs)");
    }
    bool known = false;
    for (const auto& f : kFlags) {
      if (o != f.name) continue;
      p.flags = f.clear ? (p.flags & ~f.flag) : (p.flags | f.flag);
      known = true;
      break;
    }
    for (const auto& f : kPropagation) {
      if (known || o != f.name) continue;
      p.propagation = f.flag;
      known = true;
    }
    if (known) continue;
    if (!p.data.empty()) p.data += ',';
    p.data += o;
  }
  if (p.data.size() > kMaxMountDataBytes) {
    return fail(Errc::Invalid,
                "rootfs mount of type " + m.type + ": its options are " +
                    std::to_string(p.data.size()) + " bytes, more than a mount call takes (" +
                    std::to_string(kMaxMountDataBytes) + "); an image with fewer layers avoids it");
  }
  p.remount_readonly = (p.flags & (MS_BIND | MS_RDONLY)) == (MS_BIND | MS_RDONLY);
  return p;
}

Status unmount_all(const std::string& target) {
  // Each call takes the top mount; a bounded loop, as mounts cannot stack for ever.
  for (int i = 0; i < 256; ++i) {
    if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return {};
    return fail_errno("unmounting the rootfs " + target);
  }
  return fail(Errc::InvalidState, "unmounting the rootfs " + target +
                                      ": still mounted after 256 "
                                      "unmounts");
}

RootfsMounts::RootfsMounts(RootfsMounts&& o) noexcept
    : target_(std::exchange(o.target_, {})), count_(std::exchange(o.count_, 0)) {}

RootfsMounts& RootfsMounts::operator=(RootfsMounts&& o) noexcept {
  if (this != &o) {
    (void)unmount();
    target_ = std::exchange(o.target_, {});
    count_ = std::exchange(o.count_, 0);
  }
  return *this;
}

Result<RootfsMounts> RootfsMounts::mount_all(const std::vector<MountRequest>& mounts,
                                             const std::string& target) {
  RootfsMounts r;
  r.target_ = target;
  for (const MountRequest& m : mounts) {
    HULL_ASSIGN(p, plan_mount(m));
    const std::string what =
        "mounting the rootfs (" + m.type + " from " + m.source + ") on " + target;
    if ((p.flags & MS_REMOUNT) == 0 || !p.data.empty()) {
      if (::mount(m.source.c_str(), target.c_str(), m.type.c_str(), p.flags,
                  p.data.empty() ? nullptr : p.data.c_str()) != 0) {
        return fail_errno(what);
      }
      ++r.count_;
    }
    if (p.propagation != 0 &&
        ::mount(nullptr, target.c_str(), nullptr, p.propagation, nullptr) != 0) {
      return fail_errno(what + ": setting its propagation");
    }
    if (p.remount_readonly &&
        ::mount(nullptr, target.c_str(), nullptr, p.flags | MS_REMOUNT, nullptr) != 0) {
      return fail_errno(what + ": making the bind read-only");
    }
  }
  return r;
}

Status RootfsMounts::unmount() {
  if (target_.empty() || count_ == 0) {
    target_.clear();
    return {};
  }
  std::string target = std::exchange(target_, {});
  count_ = 0;
  return unmount_all(target);
}

}  // namespace hull::shim
