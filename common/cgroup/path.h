// hull::cgroup paths: the rules for linux.cgroupsPath that do not depend on
// where the cgroup file system is mounted. Pure. The host resolves the result
// against its hierarchies and the caller's cgroup (runtime/hostcgroup/
// paths.h); the guest, where the VM's cgroup tree is the container's alone,
// below its cgroup root (vm_path).
//
//   "slice:prefix:name"  -> "/<expanded slice>/<prefix>-<name>.scope"
//                           (systemd's directory for that unit; a name ending
//                           in ".slice" is used as it is; slice "" is
//                           system.slice, prefix "" gives "<name>.scope")
//   absent (systemd)     -> "/system.slice/runc-<id>.scope"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace hull::cgroup {

// runc's CleanPath: lexically cleaned, "" stays "", a relative path never
// climbs above its start ("../../a" -> "a").
std::string clean_path(std::string_view p);

// systemd's slice expansion: "a-b.slice" -> "/a.slice/a-b.slice",
// "-.slice" -> "/". Errc::Invalid "invalid slice name: <slice>".
Result<std::string> expand_slice(std::string_view slice);

// True when `p` is systemd's "slice:prefix:name" form rather than a path (it
// has a ':' and does not start with '/').
bool systemd_form(std::string_view p);

// The cgroup directory (absolute, cleaned) of a systemd-style cgroupsPath, as
// the table above says; `given` empty is the default unit for `id`.
// Errc::Invalid with runc's words when it is not "slice:prefix:name".
Result<std::string> systemd_path(std::string_view given, std::string_view id);

// The container's cgroup in a VM's own cgroup tree, relative to its root and
// starting with '/': absent or "" -> "/hull/<id>"; "/a/b" and "a/b" ->
// "/a/b" (there is no caller's cgroup to be relative to); the systemd form
// as above. ".." components are refused (nothing to climb to), and so is the
// root itself.
Result<std::string> vm_path(const std::optional<std::string>& cgroups_path, std::string_view id);

// A sub-cgroup of the container's (`exec --cgroup`), as runc joins it to
// the container's path and refuses what climbs out: relative and cleaned,
// "a/./b//c" -> "a/b/c", "/a" -> "a", "." and "" -> "" (the container's own).
// Errc::Invalid "bad sub cgroup path: <p>" when ".." would leave it.
Result<std::string> sub_cgroup_path(std::string_view p);

// runc 1.1's `exec --cgroup` arguments: a single "path", or one or more
// "controller[,controller...]:path". The VM's cgroup is v2, one tree for
// every controller, so the controllers named must all name the same path;
// each must be a cgroup controller and be named once. Returns the
// sub-cgroup (sub_cgroup_path's form; "" without arguments); Errc::Invalid
// in runc's words otherwise.
Result<std::string> exec_sub_cgroup(const std::vector<std::string>& args);

}  // namespace hull::cgroup
