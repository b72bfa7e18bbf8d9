// The containerd.task.v2.Task service of one shim (one pod, one VM): the
// task calls containerd 1.6 makes, as runc's shim answers them, over hull's
// sandbox library. rpc.cc registers each method with the ttrpc server; this
// is what they do.
//
//   Create   rootfs mounts on the host -> the pod's VM (booted by the first
//            task, joined by later ones) -> rootfs shared by virtio-fs ->
//            the agent's CreateContainer -> stdio copy -> /tasks/create
//   Start    the agent's StartContainer (or ExecProcess) -> /tasks/start
//            (/tasks/exec-started) -> a thread waits for the exit -> /tasks/exit
//   Delete   refused while running; the agent's RemoveContainer, unshare,
//            unmount -> /tasks/delete; the last task stops the VM
//   Shutdown ignored while tasks remain; otherwise the daemon exits
//
// Every task reports the pid of the pod's QEMU. Calls run concurrently (the
// ttrpc server gives each its own thread); a Wait blocks only itself.
#pragma once

#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include <google/protobuf/empty.pb.h>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "runtime/share/share.h"
#include "shim/events.h"
#include "shim/mounts.h"
#include "shim/pod.h"
#include "shim/process.h"
#include "ttrpc/service.h"
#include "ttrpc/status.h"

namespace hull::shim {

namespace task = containerd::task::v2;
using google::protobuf::Empty;

template <typename T>
using Reply = std::expected<T, ttrpc::RpcError>;

struct ServiceOptions {
  PodOptions pod;
  std::string ns;  // containerd's namespace (a logging binary's CONTAINER_NAMESPACE)
  // Shutdown found no task left: the daemon should exit (called on the
  // Shutdown call's thread; must not wait for the server).
  std::function<void()> on_shutdown;
};

class Service {
 public:
  Service(ServiceOptions o, Publisher& events);
  ~Service();  // teardown()
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Registers the shim with its pod record (the daemon, before serving).
  Status register_shim() { return pod_.register_shim(); }

  Reply<task::CreateTaskResponse> create(const task::CreateTaskRequest& r);
  Reply<task::StartResponse> start(const task::StartRequest& r);
  Reply<task::DeleteResponse> remove(const task::DeleteRequest& r);
  Reply<task::StateResponse> state(const task::StateRequest& r);
  Reply<task::WaitResponse> wait(const ttrpc::CallContext& ctx, const task::WaitRequest& r);
  Reply<Empty> kill(const task::KillRequest& r);
  Reply<Empty> exec(const task::ExecProcessRequest& r);
  Reply<Empty> resize_pty(const task::ResizePtyRequest& r);
  Reply<Empty> close_io(const task::CloseIORequest& r);
  Reply<task::PidsResponse> pids(const task::PidsRequest& r);
  Reply<Empty> pause(const task::PauseRequest& r);
  Reply<Empty> resume(const task::ResumeRequest& r);
  Reply<Empty> update(const task::UpdateTaskRequest& r);
  Reply<task::StatsResponse> stats(const task::StatsRequest& r);
  Reply<Empty> checkpoint(const task::CheckpointTaskRequest& r);
  Reply<task::ConnectResponse> connect(const task::ConnectRequest& r);
  Reply<Empty> shutdown(const task::ShutdownRequest& r);

  // Every task stopped and removed, the VM stopped (the daemon exits).
  void teardown();

 private:
  struct Container {
    std::string id;
    std::string bundle;
    pid_t pid = 0;
    bool terminal = false;
    RootfsMounts rootfs;  // declared before `shared`: unshared first, unmounted after
    std::optional<container::SharedContainer> shared;
    std::shared_ptr<Process> init;
    std::mutex mu;
    std::map<std::string, std::shared_ptr<Process>> execs;  // guarded by mu
    bool paused = false;                                    // guarded by mu
    bool deleting = false;                                  // guarded by mu
  };

  Result<std::shared_ptr<Container>> find(const std::string& id);
  Result<std::shared_ptr<Process>> process(Container& c, const std::string& exec_id);
  Process::OnExit exit_publisher(pid_t pid);
  Status create_in_pod(Container& c, const task::CreateTaskRequest& r, const oci::Spec& spec);
  // The container's processes stopped, the agent's container removed, its
  // files unshared and unmounted; with `last`, the VM stopped too.
  void dismantle(Container& c, bool last);

  ServiceOptions opts_;
  Publisher& events_;

  // Exclusive to boot or stop the VM; shared by every call that uses it.
  std::shared_mutex pod_mu_;
  Pod pod_;
  std::string pod_hostname_;  // the first task's (CRI: the sandbox's); guarded by pod_mu_

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Container>> containers_;  // guarded by mu_
  std::set<std::string> creating_;                                // guarded by mu_
};

// The ttrpc handlers of containerd.task.v2.Task, bound to `s` (rpc.cc).
inline constexpr std::string_view kTaskService = "containerd.task.v2.Task";
ttrpc::ServiceMap task_service(Service& s);

}  // namespace hull::shim
