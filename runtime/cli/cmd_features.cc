// hull features: runc's `features` JSON (runtime-spec features document),
// truthful about hull: the container's host cgroup (v1 or v2, cgroupfs; a
// --systemd-cgroup path becomes a plain directory, no systemd unit), the
// container's own limits in the guest's cgroup v2, seccomp via libseccomp,
// and no AppArmor or SELinux.
#include <seccomp.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/oci/spec.h"
#include "common/version.h"
#include "runtime/cli/command.h"
#include "runtime/hostcgroup/limits.h"

namespace hull::cli {
namespace {

using Json = nlohmann::json;

// Mount options the guest-side engine applies (plain mount flags, propagation,
// bind/rbind, remount, and the recursive r* attributes via mount_setattr).
// Space-separated, sorted.
constexpr std::string_view kMountOptions =
    "async atime bind defaults dev diratime dirsync exec iversion lazytime loud mand "
    "noatime nodev nodiratime noexec noiversion nolazytime nomand norelatime "
    "nostrictatime nosuid nosymfollow private ratime rbind rdev rdiratime relatime "
    "remount rexec rnoatime rnodev rnodiratime rnoexec rnorelatime rnostrictatime "
    "rnosuid rnosymfollow ro rprivate rrelatime rro rrw rshared rslave rstrictatime "
    "rsuid rsymfollow runbindable rw shared silent slave strictatime suid symfollow "
    "sync unbindable";

Json features_json() {
  Json caps = Json::array();
  for (std::string_view c : oci::capability_names()) caps.push_back(c);
  Json mount_options = Json::array();
  for (size_t at = 0; at < kMountOptions.size();) {
    size_t end = std::min(kMountOptions.find(' ', at), kMountOptions.size());
    mount_options.push_back(std::string(kMountOptions.substr(at, end - at)));
    at = end + 1;
  }
  const scmp_version* v = seccomp_version();
  std::string seccomp_version_text =
      v ? std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro)
        : "unknown";
  return Json{
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", kOciSpecVersion},
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions", mount_options},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}},
        {"capabilities", caps},
        {"cgroup",
         {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions",
           {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
          {"operators",
           {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
          {"archs", {"SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"}}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations",
       {{"io.github.seccomp.libseccomp.version", seccomp_version_text},
        {"io.hull.cgroup.host",
         "linux.cgroupsPath on the host holds the VM (monitor, QEMU, virtiofsd, hull-vsock) "
         "with cpu shares, quota, period, realtime (v1), cpuset cpus and mems, and pids.max "
         "(never below " +
             std::to_string(hostcgroup::kPidsFloor) + "); no memory limit"},
        {"io.hull.cgroup.guest",
         "cgroup v2: every linux.resources limit but the cpuset and realtime ones (host only); "
         "pids exactly"},
        {"io.hull.commit", kGitCommit},
        {"io.hull.version", kVersion}}},
  };
}

}  // namespace

Command features_command() {
  return {"features", "show the enabled features", [](CLI::App&) -> Action {
            return [](const GlobalOptions&) {
              std::printf("%s\n", features_json().dump(4).c_str());
              return 0;
            };
          }};
}

}  // namespace hull::cli
