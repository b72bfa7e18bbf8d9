// hull::hostcgroup paths: where a container's host cgroup lives, computed as
// runc's cgroupfs driver computes it. Everything here is pure (no I/O): the
// callers pass the text of /proc/self/mountinfo and /proc/<pid>/cgroup.
//
//   linux.cgroupsPath      cgroup in each hierarchy (mount M, caller's cgroup C)
//   "/a/b" (absolute)      M/a/b              relative to the hierarchy's root
//   "a/b"  (relative)      M/C/a/b            v1 (and v2 in a hybrid host)
//                          M/dirname(C)/a/b   cgroup v2 unified mode: C holds
//                                             tasks, so its parent (runc)
//   absent                 as the relative "<id>" (runc: cgroup name = id)
//   --systemd-cgroup       "slice:prefix:name" -> "/<expanded slice>/prefix-name.scope",
//                          the directory systemd would give that unit; absent
//                          -> "/system.slice/runc-<id>.scope" (common/cgroup/
//                          path.h, the guest's rule too). hull writes the
//                          directories itself (no systemd unit).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace hull::hostcgroup {

// One line of /proc/<pid>/cgroup: "4:memory:/a/b", "1:name=systemd:/x", "0::/y".
struct ProcCgroup {
  int hierarchy_id = 0;
  std::vector<std::string> controllers;  // "memory"; "name=systemd"; none for cgroup v2
  std::string path;                      // as the kernel prints it, absolute
  bool operator==(const ProcCgroup&) const = default;
};

// Errc::Invalid naming the line when one is not "id:controllers:path".
Result<std::vector<ProcCgroup>> parse_proc_cgroup(std::string_view text);

// One mounted cgroup hierarchy (a "cgroup" or "cgroup2" line of mountinfo).
struct Hierarchy {
  std::string mount_point;               // /sys/fs/cgroup/cpu
  std::string root = "/";                // the cgroup the mount shows at its top
  std::vector<std::string> controllers;  // sorted: {"cpu", "cpuacct"}, {"name=systemd"}
  bool v2 = false;
  bool operator==(const Hierarchy&) const = default;
};

// The cgroup mounts in mountinfo text, in file order; other mounts skipped.
Result<std::vector<Hierarchy>> parse_mountinfo(std::string_view text);

// The hierarchies a container joins, as runc does: every v1 hierarchy with a
// kernel controller, name=systemd, and the v2 hierarchy; other named v1
// hierarchies are left out. One entry per hierarchy (its first mount). When
// a cgroup2 is mounted at `unified_root` (/sys/fs/cgroup: unified mode) only
// that one.
std::vector<Hierarchy> joinable(const std::vector<Hierarchy>& all,
                                std::string_view unified_root = "/sys/fs/cgroup");

// True for the unified mode above.
bool unified_mode(const std::vector<Hierarchy>& joined);

struct CgroupsPath {
  std::string path;  // cleaned (cgroup::clean_path): "/a/b" or "a/b"
  bool absolute() const { return path.starts_with('/'); }
  bool operator==(const CgroupsPath&) const = default;
};

// linux.cgroupsPath as the table above says. Errc::Invalid for a systemd path
// that is not "slice:prefix:name" or names a bad slice.
Result<CgroupsPath> cgroups_path(const std::optional<std::string>& spec_path, bool systemd,
                                 const std::string& id);

// The cgroup's directory in `h`. `own` is the caller's /proc/self/cgroup (used
// for a relative path only); `unified` says whether the host is in unified mode.
Result<std::string> cgroup_dir(const Hierarchy& h, const CgroupsPath& p,
                               const std::vector<ProcCgroup>& own, bool unified);

// The directory of the cgroup `line` names in `h` (its parent's with
// `parent`); Errc::NotFound when the mount does not show it.
Result<std::string> own_dir(const Hierarchy& h, const ProcCgroup& line, bool parent = false);

// The line of `cgroups` that belongs to hierarchy `h` (same controller set;
// for v2 the "0::" line), or nullptr.
const ProcCgroup* find_line(const std::vector<ProcCgroup>& cgroups, const Hierarchy& h);

// The hierarchy's display name: "cpu,cpuacct", "name=systemd", "unified".
std::string hierarchy_name(const Hierarchy& h);

}  // namespace hull::hostcgroup
