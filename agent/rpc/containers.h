// ContainerRegistry: the containers of one sandbox and the processes the agent
// started in them, by id. It turns the container RPCs into calls of the
// engine (agent/engine/container.h) and owns what the engine leaves to its
// caller: stdio (stdio.h), exit statuses from PID 1's reaper
// (process_record.h) and the OOM watch (oom.h).
//
//   CreateContainer: parse + validate the spec -> pipes -> [hold reaper]
//                    engine create -> watch the init's pid [release] -> OOM watch
//   ExecProcess:     parse the process -> pipes -> [hold reaper] engine exec
//                    -> watch the pid [release]
//   RemoveContainer: SIGTERM + grace (timeout_s) -> engine destroy (SIGKILL,
//                    cgroup emptied and removed) -> forget the id
//
// Every method may be called from any gRPC thread. Errors are hull::Error;
// the service maps them to statuses (agent/proto/error_codec.h).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent.pb.h"
#include "agent/engine/container.h"
#include "agent/init/reaper.h"
#include "agent/rpc/oom.h"
#include "agent/rpc/process_record.h"
#include "common/error.h"

namespace hull::agent::rpc {

struct RegistryOptions {
  init::Reaper* reaper = nullptr;  // required
  OomMonitor* oom = nullptr;       // optional
  std::string shared_dir;          // base of relative root.path and bind sources
  std::string cgroup_root = std::string(engine::kDefaultCgroupRoot);
  std::chrono::milliseconds engine_timeout{10000};  // per engine handshake step
};

class ContainerRegistry {
 public:
  explicit ContainerRegistry(RegistryOptions opts) : opts_(std::move(opts)) {}
  ~ContainerRegistry();

  Status create(const CreateContainerRequest& req);
  Status start(const std::string& id);
  Status exec(const ExecProcessRequest& req);
  Status signal(const SignalProcessRequest& req);
  Status remove(const std::string& id, uint32_t timeout_s);

  // The process (exec_id empty: the container's init).
  Result<std::shared_ptr<ProcessRecord>> process(const std::string& id, const std::string& exec_id);

  Result<ListProcessesResponse> list_processes(const std::string& id);
  Result<CgroupStats> stats(const std::string& id);
  Status pause(const std::string& id);
  Status resume(const std::string& id);
  Status update(const std::string& id, const std::string& resources_json);

  // Kills and removes every container; waiters still waiting get UNAVAILABLE.
  // From then on every call naming a container is refused as NotRunning ("the
  // sandbox is being destroyed"): a WaitProcess that reaches the agent just
  // after DestroySandbox learns why, not that the container never existed.
  void destroy_all();

 private:
  struct Entry {
    std::shared_ptr<engine::Container> container;
    std::shared_ptr<ProcessRecord> init;
    std::mutex mu;
    std::map<std::string, std::shared_ptr<ProcessRecord>> execs;  // guarded by mu
    std::set<std::string> starting;  // exec ids being started; guarded by mu
  };

  Result<std::shared_ptr<Entry>> find(const std::string& id);
  // engine create/exec under the reaper's hold, then watch the new pid.
  Status watch_exit(init::Reaper::Hold& hold, const std::shared_ptr<ProcessRecord>& rec);
  Status destroy_entry(const std::string& id, Entry& e);

  RegistryOptions opts_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // guarded by mu_
  std::set<std::string> creating_;                         // guarded by mu_
  bool destroyed_ = false;                                 // guarded by mu_
};

// An OCI "process" object (ExecProcessRequest.oci_process_json), with the
// checks parse_spec applies; errors name the field ("ExecProcess: process.cwd: ...").
Result<oci::Process> parse_process_json(std::string_view json);

// The VM is the container's network namespace boundary: the host wired the
// caller's namespace (its interfaces, addresses, routes) into the guest's root
// namespace, where the NICs are. A container asking for a new network
// namespace (no path) therefore runs in the guest's root one, as Kata's
// containers do; its net.* sysctls then apply to the guest's network, which is
// the container's alone (or its pod's). Removes that namespace entry; an entry
// with a path (a guest path) is kept.
void join_guest_network(oci::Spec& spec);
// An OCI linux.resources object (UpdateContainerRequest.resources_json).
Result<oci::Resources> parse_resources_json(std::string_view json);

}  // namespace hull::agent::rpc
