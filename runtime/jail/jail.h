// The jailer step: what a host process that faces the guest (QEMU,
// hull-vsock) goes through between fork and exec, so that it runs with no
// more than it needs (docs/security.md):
//
//   namespaces  its own mount, IPC and UTS namespaces (+ network for
//               hull-vsock); the mount tree is made private first, so
//               nothing it mounts reaches the host
//   root        a small tmpfs mounted on an empty per-sandbox directory,
//               holding only the listed binds (read-only unless writable),
//               then pivot_root into it and the old root detached; the
//               tmpfs itself is remounted read-only
//   identity    an unprivileged uid/gid (config jail.user/jail.group), no
//               supplementary groups but the listed ones
//   privileges  every capability set empty, the bounding set included;
//               PR_SET_NO_NEW_PRIVS
//   limits      the listed rlimits (NOFILE, FSIZE, CORE, NPROC); SIGXFSZ is
//               ignored, so a write past FSIZE fails with EFBIG instead of
//               killing the process
//
// Jail::enter() runs in the child: it makes only system calls, on strings
// prepared by Jail::prepare() in the parent (no allocation, no stdio, no
// libc wrappers that keep state across threads: the id changes are raw
// system calls, because glibc's setuid family signals the caller's other
// threads, which a forked child does not own). For the same reason the
// capability sets are emptied with prctl/capset directly: libcap-ng's
// capng_apply reads /proc through stdio.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace hull::jail {

// Who the jailed process runs as.
struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;  // the name it was resolved from (error messages)
};

// `user` is a user name or a number; `group` a group name, a number, or
// empty for the user's primary group. Errc::NotFound names the missing user
// and the fix; Errc::Invalid refuses uid 0 or gid 0 (a jail as root is none).
Result<Identity> resolve_identity(const std::string& user, const std::string& group);

struct Bind {
  std::string source;  // a host file or directory
  std::string target;  // absolute path inside the jail
  bool writable = false;
  bool device = false;  // a device node: the mount keeps devices usable
};

struct Limit {
  int resource = 0;  // RLIMIT_*
  rlim_t value = 0;  // soft and hard
};

struct JailSpec {
  std::string root;  // an existing empty host directory: the jail's "/"
  Identity id;
  std::vector<gid_t> groups;  // supplementary groups (e.g. /dev/kvm's group)
  int namespaces = 0;         // CLONE_NEW* flags; CLONE_NEWNS is always added
  std::vector<Bind> binds;
  std::vector<std::pair<std::string, std::string>> symlinks;  // (path in the jail, link text)
  std::vector<Limit> limits;
  std::string hostname = "hull";  // with CLONE_NEWUTS
};

// The binds and symlinks every dynamically linked program needs: /usr
// read-only, and /bin, /sbin, /lib, /lib64 (and the other /lib* the host
// has) as the same symlinks into /usr on a merged-/usr host, or as
// read-only binds where they are directories.
Status add_system_dirs(JailSpec& spec);

// A device node bind (/dev/null, /dev/kvm, ...) at the same path.
void add_device(JailSpec& spec, const std::string& path);

class Jail {
 public:
  // Checks the spec (absolute paths, sources that exist, no uid 0) and lays
  // out every path and mount the child will need.
  static Result<Jail> prepare(JailSpec spec);

  // In the child between fork and exec: enters the jail. Returns 0, or -1
  // with errno set and *step naming what failed ("pivot_root").
  int enter(const char** step) const noexcept;

  const JailSpec& spec() const { return spec_; }

 private:
  struct Mount {
    std::string source;
    std::string target;  // host path under root, as the child sees it before pivot_root
    bool file = false;
    unsigned long remount_flags = 0;
  };
  JailSpec spec_;
  std::string root_;
  std::vector<std::string> dirs_;  // host paths under root, parents first
  std::vector<Mount> mounts_;
  std::vector<std::pair<std::string, std::string>> links_;  // (host path under root, text)
  int unshare_flags_ = 0;
};

// SpawnOptions::pre_exec for a Jail (`arg` is a const Jail*).
int enter_hook(const void* arg, const char** step) noexcept;

}  // namespace hull::jail
