// Pod: the one VM of a shim. containerd starts one shim per pod (address.h);
// the pod's first task boots the VM (Sandbox::start, sized from that task's
// spec and the hull config), every later task joins it, and the VM stops
// when the pod's last task is deleted (or the shim exits).
//
// The VM's processes (QEMU, virtiofsd, hull-vsock) are the shim's children;
// when virtiofsd or hull-vsock dies, QEMU is killed (the pod has failed);
// the pod record (record.h) names them for `delete` after a shim death.
// Not thread-safe: the task service serializes calls (its pod lock).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/oci/spec.h"
#include "common/unique_fd.h"
#include "runtime/container/network.h"
#include "runtime/hostcgroup/cgroup.h"
#include "runtime/sandbox/container_client_impl.h"
#include "runtime/sandbox/sandbox.h"
#include "shim/record.h"

namespace hull::shim {

struct PodOptions {
  std::string id;       // the group: the CRI sandbox id, or the task id
  std::string root;     // pod_root(namespace)
  std::string address;  // the socket this shim serves
};

class Pod {
 public:
  explicit Pod(PodOptions o);
  ~Pod();  // stop()
  Pod(const Pod&) = delete;
  Pod& operator=(const Pod&) = delete;

  const std::string& id() const { return opts_.id; }

  // Writes the pod record naming this shim (the daemon, before any VM).
  Status register_shim();

  // Boots the VM for the pod's first task `first` (for CRI the sandbox
  // container), in this order:
  //   size     container::pod_vm_size: CRI's io.kubernetes.cri.sandbox-*
  //            annotations (else linux.resources), io.hull.vm.*, the config
  //   cgroup   with a linux.cgroupsPath (CRI: <pod cgroup>/<sandbox id>),
  //            that host cgroup is made and the shim joins it, so QEMU,
  //            virtiofsd and hull-vsock start in it; no limits are written
  //            there (the kubelet's pod cgroup above holds the pod's)
  //   network  with a network namespace path (CRI: the pod's CNI netns), a
  //            thread of the shim enters it, wires its interfaces to taps
  //            (as runc mode does, container/network.h) and starts the VM's
  //            processes from there, so QEMU lives in the pod's namespace;
  //            after boot the guest gets the addresses, routes, neighbours.
  //            A namespace entry without a path, or none: loopback only
  //            (there is no process of the pod's to make one for)
  // The hull config is loaded here ($HULL_CONFIG: `start` sets it from the
  // runtime options' ConfigPath). `on_oom` gets the id of each container the
  // guest reports an OOM kill for, from a thread of its own. On failure
  // nothing of the above is left.
  Status boot(const oci::Spec& first, std::function<void(const std::string&)> on_oom);
  bool running() const { return sandbox_ != nullptr; }

  sandbox::Sandbox& sandbox() { return *sandbox_; }
  // The shim's one way to the agent about containers (their processes,
  // stdio and OOM kills). Valid while running(): the processes that hold it
  // are stopped before the pod is (Service::dismantle).
  sandbox::ContainerClient& client() { return *client_; }
  // The pid every task of the pod reports: QEMU's.
  pid_t pid() const { return sandbox_ ? sandbox_->qemu_pid() : 0; }

  // Sandbox::destroy_guest (before unsharing what the guest may still write).
  void destroy_guest();
  // Stops the OOM watch and the VM; the record no longer names a VM.
  Status stop();
  // Removes the pod record (the daemon's last step).
  void remove_record();

 private:
  PodOptions opts_;
  PodRecord record_;
  // Destroyed in reverse: the VM, then its taps, then the shim leaves the
  // cgroup, which is removed (stop()).
  std::optional<hostcgroup::Cgroup> cgroup_;
  std::optional<hostcgroup::SelfJoin> in_cgroup_;
  std::unique_ptr<container::VmNetwork> net_;
  std::unique_ptr<sandbox::Sandbox> sandbox_;
  std::unique_ptr<sandbox::GrpcContainerClient> client_;  // over sandbox_'s agent
  std::unique_ptr<sandbox::OomEventReader> oom_;
  std::thread oom_thread_;
  // Watches virtiofsd and hull-vsock: without either the VM cannot serve
  // (no files, no agent), so QEMU is killed and every task exits as when
  // QEMU itself dies. Stopped (watch_stop_) before the VM's processes are
  // reaped, so it never signals a pid that is no longer QEMU's.
  UniqueFd watch_stop_;
  std::thread watch_thread_;
  void watch_helpers();
  void stop_watch();
};

}  // namespace hull::shim
