#include "agent/engine/mount_options.h"

#include <sys/mount.h>

#include <array>

#include "agent/engine/str.h"
#include "common/text.h"

namespace hull::engine {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // true: the option clears `flag` ("rw" clears MS_RDONLY)
  unsigned long flag;
};

// runc's table of mount(2) flags.
constexpr std::array kFlagOptions{
    FlagOption{"async", true, MS_SYNCHRONOUS},
    FlagOption{"atime", true, MS_NOATIME},
    FlagOption{"bind", false, MS_BIND},
    FlagOption{"defaults", false, 0},
    FlagOption{"dev", true, MS_NODEV},
    FlagOption{"diratime", true, MS_NODIRATIME},
    FlagOption{"dirsync", false, MS_DIRSYNC},
    FlagOption{"exec", true, MS_NOEXEC},
    FlagOption{"iversion", false, MS_I_VERSION},
    FlagOption{"lazytime", false, MS_LAZYTIME},
    FlagOption{"loud", true, MS_SILENT},
    FlagOption{"mand", false, MS_MANDLOCK},
    FlagOption{"noatime", false, MS_NOATIME},
    FlagOption{"nodev", false, MS_NODEV},
    FlagOption{"nodiratime", false, MS_NODIRATIME},
    FlagOption{"noexec", false, MS_NOEXEC},
    FlagOption{"noiversion", true, MS_I_VERSION},
    FlagOption{"nolazytime", true, MS_LAZYTIME},
    FlagOption{"nomand", true, MS_MANDLOCK},
    FlagOption{"norelatime", true, MS_RELATIME},
    FlagOption{"nostrictatime", true, MS_STRICTATIME},
    FlagOption{"nosuid", false, MS_NOSUID},
    FlagOption{"nosymfollow", false, MS_NOSYMFOLLOW},
    FlagOption{"rbind", false, MS_BIND | MS_REC},
    FlagOption{"relatime", false, MS_RELATIME},
    FlagOption{"remount", false, MS_REMOUNT},
    FlagOption{"ro", false, MS_RDONLY},
    FlagOption{"rw", true, MS_RDONLY},
    FlagOption{"silent", false, MS_SILENT},
    FlagOption{"strictatime", false, MS_STRICTATIME},
    FlagOption{"suid", true, MS_NOSUID},
    FlagOption{"symfollow", true, MS_NOSYMFOLLOW},
    FlagOption{"sync", false, MS_SYNCHRONOUS},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flag;
};

constexpr std::array kPropagationOptions{
    PropagationOption{"private", MS_PRIVATE},
    PropagationOption{"rprivate", MS_PRIVATE | MS_REC},
    PropagationOption{"shared", MS_SHARED},
    PropagationOption{"rshared", MS_SHARED | MS_REC},
    PropagationOption{"slave", MS_SLAVE},
    PropagationOption{"rslave", MS_SLAVE | MS_REC},
    PropagationOption{"unbindable", MS_UNBINDABLE},
    PropagationOption{"runbindable", MS_UNBINDABLE | MS_REC},
};

struct RecursiveOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

// runc's recursive mount attributes ("rro", ...), applied with mount_setattr(2)
// and AT_RECURSIVE. The atime group is one field: setting one clears the others.
constexpr std::array kRecursiveOptions{
    RecursiveOption{"rro", false, MOUNT_ATTR_RDONLY},
    RecursiveOption{"rrw", true, MOUNT_ATTR_RDONLY},
    RecursiveOption{"rnosuid", false, MOUNT_ATTR_NOSUID},
    RecursiveOption{"rsuid", true, MOUNT_ATTR_NOSUID},
    RecursiveOption{"rnodev", false, MOUNT_ATTR_NODEV},
    RecursiveOption{"rdev", true, MOUNT_ATTR_NODEV},
    RecursiveOption{"rnoexec", false, MOUNT_ATTR_NOEXEC},
    RecursiveOption{"rexec", true, MOUNT_ATTR_NOEXEC},
    RecursiveOption{"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    RecursiveOption{"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    RecursiveOption{"rrelatime", false, MOUNT_ATTR_RELATIME},
    RecursiveOption{"rnorelatime", true, MOUNT_ATTR_RELATIME},
    RecursiveOption{"rnoatime", false, MOUNT_ATTR_NOATIME},
    RecursiveOption{"ratime", true, MOUNT_ATTR_NOATIME},
    RecursiveOption{"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    RecursiveOption{"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    RecursiveOption{"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    RecursiveOption{"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

// Options runc understands that hull does not implement; an error beats a
// silently different mount.
constexpr std::array<std::string_view, 4> kUnsupported{"idmap", "ridmap", "tmpcopyup",
                                                       "copy-symlink"};

}  // namespace

bool MountOptions::is_bind() const {
  return (flags & MS_BIND) != 0;
}

bool MountOptions::bind_needs_remount() const {
  return is_bind() && (flags & ~static_cast<unsigned long>(MS_BIND | MS_REC | MS_REMOUNT)) != 0;
}

unsigned long propagation_flag(std::string_view name) {
  for (const auto& p : kPropagationOptions) {
    if (p.name == name) return p.flag;
  }
  return 0;
}

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options,
                                         std::string_view field) {
  MountOptions out;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& opt = options[i];
    if (opt.empty()) return fail(Errc::Invalid, cat(field, "[", i, "]: empty option"));
    bool known = false;
    for (const auto& f : kFlagOptions) {
      if (f.name != opt) continue;
      if (f.clear) {
        out.flags &= ~f.flag;
        out.clear |= f.flag;
      } else {
        out.flags |= f.flag;
        out.clear &= ~f.flag;
      }
      known = true;
      break;
    }
    if (known) continue;
    if (unsigned long p = propagation_flag(opt)) {
      out.propagation.push_back(p);
      continue;
    }
    for (const auto& r : kRecursiveOptions) {
      if (r.name != opt) continue;
      if (r.clear) {
        out.rec_attr_set &= ~r.attr;
        out.rec_attr_clr |= r.attr;
      } else {
        out.rec_attr_set |= r.attr;
        out.rec_attr_clr &= ~r.attr;
      }
      known = true;
      break;
    }
    if (known) continue;
    for (auto u : kUnsupported) {
      if (u == opt) {
        return fail(Errc::Unsupported,
                    cat(field, "[", i, "]: option ", quote(opt), " is not supported by hull"));
      }
    }
    // Anything else belongs to the filesystem ("mode=755", "size=65536k").
    if (!out.data.empty()) out.data += ',';
    out.data += opt;
  }
  // mount_setattr's atime values are one 3-bit field, not independent bits.
  if (out.rec_attr_set & MOUNT_ATTR__ATIME) out.rec_attr_clr |= MOUNT_ATTR__ATIME;
  return out;
}

}  // namespace hull::engine
