// `delete`: containerd runs it when a task's shim connection ended (after
// every normal Shutdown too) or a create failed, to clean up after a shim
// that may be dead (runtime/v2/shim.go cleanupAfterDeadShim).
//
//   the pod of the task (config.json) -> its record (record.h)
//   the shim named there still runs?  -> it owns the pod: leave it
//   else: kill the VM's processes it names (pid + start time), unmount and
//         remove the sandbox directory, remove the socket and the record
//   always: unmount <bundle>/rootfs
//   stdout: DeleteResponse{pid, exit_status 137, exited_at now}, as runc's shim
#include <sys/mount.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "common/file.h"
#include "common/oci/spec.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "runtime/container/proc.h"
#include "runtime/hostcgroup/cgroup.h"
#include "runtime/sandbox/dir_guard.h"
#include "shim/address.h"
#include "shim/commands.h"
#include "shim/events.h"
#include "shim/mounts.h"
#include "shim/process.h"
#include "shim/record.h"

namespace hull::shim {
namespace {

constexpr int kExitWaitMs = 5000;

// Everything a dead shim's pod left; the first failure is returned, every
// step still runs.
Status clean_dead_pod(const PodRecord& r, const std::string& record_file) {
  Status result;
  auto note = [&](Status st) {
    if (!st && result) result = std::move(st);
  };
  for (const ProcRef& p : r.procs) {
    if (p.pid <= 0 || p.start == 0) continue;
    auto fd = container::open_pidfd(p.pid, p.start);
    if (!fd) continue;  // gone already (or the pid was reused)
    (void)container::pidfd_signal(fd->get(), SIGKILL);
    if (!container::pidfd_wait_exit(fd->get(), kExitWaitMs)) {
      note(fail(Errc::Timeout,
                p.name + " (pid " + std::to_string(p.pid) + ") did not end within 5 s of SIGKILL"));
    }
  }
  if (!r.sandbox_dir.empty() && ::access(r.sandbox_dir.c_str(), F_OK) == 0) {
    const std::string shared = r.sandbox_dir + "/shared";
    // MNT_DETACH takes the containers' rootfs binds below it along.
    if (::umount2(shared.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
      note(fail_errno("unmounting " + shared));
    }
    note(remove_tree(r.sandbox_dir));
  }
  if (!r.cgroup.empty()) {
    auto cg = hostcgroup::Cgroup::from_json(nlohmann::json::parse(r.cgroup, nullptr, false));
    if (cg) {
      note(wrap(cg->remove(), "the pod's host cgroup"));
    } else {
      note(fail(std::move(cg.error()).wrap("the pod's host cgroup")));
    }
  }
  if (!r.socket_dir.empty()) note(remove_tree(r.socket_dir));
  if (!r.address.empty()) ::unlink(socket_path_of(r.address).c_str());
  ::unlink(record_file.c_str());
  return result;
}

Result<pid_t> clean(const ShimFlags& f, const std::string& bundle) {
  if (f.ns.empty() || f.id.empty()) {
    return fail(Errc::Invalid, "delete needs -namespace and -id (containerd passes them)");
  }
  HULL_ASSIGN(root, pod_root(f.ns));
  std::string group = f.id;
  if (auto spec = oci::load_spec_file(bundle + "/config.json")) {
    if (auto g = group_of(spec->annotations.value_or(oci::StringMap{}), f.id)) group = *g;
  }
  pid_t pid = 0;
  Status result;
  const std::string file = record_path(root, group);
  auto rec = read_record(file);
  if (!rec) {
    result = fail(std::move(rec.error()));
  } else if (*rec) {
    const PodRecord& r = **rec;
    for (const auto& p : r.procs) {
      if (p.name == "qemu") pid = p.pid;
    }
    if (!container::process_alive(r.shim.pid, r.shim.start)) {
      result = wrap(clean_dead_pod(r, file), "pod " + group);
    }
  }
  if (auto st = unmount_all(bundle + "/rootfs"); !st && result) result = std::move(st);
  if (!result) return fail(std::move(result.error()));
  return pid;
}

}  // namespace

int cmd_delete(const ShimFlags& f) {
  std::string bundle = f.bundle;
  if (bundle.empty()) {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) bundle = cwd;
  }
  auto pid = clean(f, bundle);
  if (!pid) {
    std::fprintf(stderr, "%s: delete %s: %s\n", kBinaryName, f.id.c_str(),
                 pid.error().what().c_str());
    return 1;
  }
  containerd::task::v2::DeleteResponse resp;
  resp.set_pid(static_cast<uint32_t>(*pid));
  resp.set_exit_status(kKilledStatus);
  *resp.mutable_exited_at() = to_timestamp(std::chrono::system_clock::now());
  std::string out = resp.SerializeAsString();
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return 1;
  return 0;
}

}  // namespace hull::shim
