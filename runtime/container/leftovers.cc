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
Status unwire_leftovers(const Record& r) {
  if (!r.network || r.network->netns.empty()) return {};
  const std::string& netns = r.network->netns;
  if (::access(netns.c_str(), F_OK) != 0) return {};  // the namespace is gone: so is all of it
  return wrap(network::in_netns(netns, [&] { return network::remove_leftovers(r.network->links); }),
              "container " + r.state.id + ": unwiring network namespace " + netns);
}

// Kills what a dead monitor left of its VM (by recorded pid and start time)
// and removes the sandbox directory with its mounts: the recorded one, or,
// when the monitor died before reporting it, where the layout puts it.
Status remove_leftovers(const std::string& root, const Record& r) {
  const oci::State& s = r.state;
  std::string dir;
  if (!r.sandbox_dir.empty()) {
    dir = r.sandbox_dir;
  } else if (auto paths = sandbox::sandbox_paths(root, s.id)) {
    dir = paths->dir;
  } else {
    return {};
  }
  for (const auto& p : r.procs) {
    if (p.pid <= 0 || p.start_time == 0) continue;
    auto fd = open_pidfd(p.pid, p.start_time);
    if (!fd) continue;
    (void)pidfd_signal(fd->get(), SIGKILL);
    (void)pidfd_wait_exit(fd->get(), kLeftoverExitWaitMs);
  }
  if (auto st = unwire_leftovers(r); !st) log::warn(st.error().what());
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
void unlimit_host_cgroup(const Record& r) {
  if (!r.host_cgroup) return;
  auto cgroup = hostcgroup::Cgroup::from_json(*r.host_cgroup);
  if (!cgroup) return;
  if (auto st = cgroup->unlimit_bandwidth(); !st) log::warn(st.error().what());
}

}  // namespace hull::container
