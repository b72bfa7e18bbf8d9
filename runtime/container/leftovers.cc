#include "runtime/container/leftovers.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <vector>

#include "common/file.h"
#include "common/log.h"
#include "runtime/container/proc.h"
#include "runtime/hostcgroup/cgroup.h"
#include "runtime/network/netns.h"
#include "runtime/network/wiring.h"
#include "runtime/sandbox/layout.h"

namespace hull::container {
namespace {

// How long a dead monitor's VM processes get to exit after SIGKILL.
constexpr int kLeftoverExitWaitMs = 5000;

}  // namespace

// What a monitor that died left in a network namespace it joined by path
// (its taps went with QEMU; the ingress qdiscs on the interfaces stay).
// A namespace the monitor created went with it, or with the caller's bind
// mount of it (docker removes that one itself).
Status unwire_leftovers(const oci::State& s) {
  auto it = s.hull.find("network");
  if (it == s.hull.end() || !it->is_object()) return {};
  std::string netns = it->value("netns", std::string());
  if (netns.empty()) return {};
  std::vector<std::string> links;
  if (auto l = it->find("links"); l != it->end() && l->is_array()) {
    for (const auto& n : *l) {
      if (n.is_string()) links.push_back(n.get<std::string>());
    }
  }
  if (::access(netns.c_str(), F_OK) != 0) return {};  // the namespace is gone: so is all of it
  return wrap(network::in_netns(netns, [&] { return network::remove_leftovers(links); }),
              "container " + s.id + ": unwiring network namespace " + netns);
}

// Kills what a dead monitor left of its VM (by recorded pid and start time)
// and removes the sandbox directory with its mounts: the recorded one, or,
// when the monitor died before reporting it, where the layout puts it.
Status remove_leftovers(const std::string& root, const oci::State& s) {
  std::string dir;
  if (auto it = s.hull.find("sandbox_dir"); it != s.hull.end() && it->is_string()) {
    dir = it->get<std::string>();
  } else if (auto paths = sandbox::sandbox_paths(root, s.id)) {
    dir = paths->dir;
  } else {
    return {};
  }
  if (auto procs = s.hull.find("procs"); procs != s.hull.end() && procs->is_array()) {
    for (const auto& p : *procs) {
      pid_t pid = p.value("pid", 0);
      uint64_t start = p.value("start", uint64_t{0});
      if (pid <= 0 || start == 0) continue;
      auto fd = open_pidfd(pid, start);
      if (!fd) continue;
      (void)pidfd_signal(fd->get(), SIGKILL);
      (void)pidfd_wait_exit(fd->get(), kLeftoverExitWaitMs);
    }
  }
  if (auto st = unwire_leftovers(s); !st) log::warn(st.error().what());
  // A root too deep for socket paths keeps the sockets apart (layout.h).
  if (auto paths = sandbox::sandbox_paths(root, s.id); paths && paths->short_sockets()) {
    HULL_TRY(wrap(remove_tree(paths->socket_dir),
                  "container " + s.id + ": removing its socket directory"));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return {};
  std::string shared = dir + "/shared";
  // MNT_DETACH takes the rootfs and volume binds below it along.
  if (::umount2(shared.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return fail_errno("container " + s.id + ": unmounting " + shared);
  }
  return wrap(remove_tree(dir), "container " + s.id + ": removing its sandbox");
}

// The VM's teardown at full speed: it is hull's work, not the container's.
void unlimit_host_cgroup(const oci::State& s) {
  auto it = s.hull.find("host_cgroup");
  if (it == s.hull.end()) return;
  auto cgroup = hostcgroup::Cgroup::from_json(*it);
  if (!cgroup) return;
  if (auto st = cgroup->unlimit_bandwidth(); !st) log::warn(st.error().what());
}

// Removes the host cgroup directories create made (recorded in the state);
// what is still in them, or in a leaf it joined, can only be the
// container's: it is killed.
Status remove_host_cgroup(const oci::State& s) {
  auto it = s.hull.find("host_cgroup");
  if (it == s.hull.end()) return {};
  HULL_ASSIGN(cgroup, hostcgroup::Cgroup::from_json(*it));
  return wrap(cgroup.remove(true), "container " + s.id);
}

}  // namespace hull::container
