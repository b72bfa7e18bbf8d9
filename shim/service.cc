#include "shim/service.h"

#include <unistd.h>

#include <csignal>

#include "common/container_id.h"
#include "common/log.h"
#include "common/oci/spec.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "shim/metrics.h"
#include "shim/pod_spec.h"

namespace hull::shim {
namespace {

namespace events = containerd::events;
using TaskStatus = containerd::v1::types::Status;

std::unexpected<ttrpc::RpcError> reject(const Error& e) {
  return std::unexpected(ttrpc::to_rpc_error(e));
}

std::unexpected<ttrpc::RpcError> reject(ttrpc::Code code, std::string msg) {
  return std::unexpected(ttrpc::RpcError{code, std::move(msg)});
}

std::unexpected<ttrpc::RpcError> reject(Errc code, std::string msg) {
  return reject(Error{code, 0, std::move(msg)});
}

// A signal to a process that is gone: NOT_FOUND, as runc's shim answers
// (containerd and CRI take it as "already stopped").
std::unexpected<ttrpc::RpcError> finished(const std::string& id) {
  return reject(ttrpc::Code::NotFound, "process " + id + " already finished");
}

StdioPaths stdio_of(const std::string& in, const std::string& out, const std::string& err,
                    bool terminal) {
  return StdioPaths{in, out, terminal ? std::string() : err, terminal};
}

}  // namespace

Service::Service(ServiceOptions o, Publisher& events)
    : opts_(std::move(o)), events_(events), pod_(opts_.pod) {}

Service::~Service() {
  teardown();
}

Result<std::shared_ptr<Service::Container>> Service::find(const std::string& id) {
  std::lock_guard lk(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return fail(Errc::NotFound, "container " + id + " not found");
  return it->second;
}

Result<std::shared_ptr<Process>> Service::process(Container& c, const std::string& exec_id) {
  if (exec_id.empty()) return c.init;
  std::lock_guard lk(c.mu);
  auto it = c.execs.find(exec_id);
  if (it == c.execs.end()) {
    return fail(Errc::NotFound, "process " + exec_id + " of container " + c.id + " not found");
  }
  return it->second;
}

Process::OnExit Service::exit_publisher(pid_t pid) {
  return [this, pid](const Process& p, const ExitRecord& e) {
    events::TaskExit ev;
    ev.set_container_id(p.container_id());
    ev.set_id(p.id());
    ev.set_pid(static_cast<uint32_t>(pid));
    ev.set_exit_status(e.status);
    *ev.mutable_exited_at() = to_timestamp(e.at);
    events_.publish(kTopicExit, ev);
    log::info("container " + p.container_id() + ": process " + p.id() + " exited with status " +
              std::to_string(e.status));
  };
}

Reply<task::CreateTaskResponse> Service::create(const task::CreateTaskRequest& r) {
  const std::string& id = r.id();
  if (auto st = validate_container_id(id); !st) return reject(st.error());
  if (!r.checkpoint().empty()) {
    return reject(ttrpc::Code::Unimplemented,
                  "hull cannot restore a checkpoint: checkpoints are not supported");
  }
  {
    std::lock_guard lk(mu_);
    if (containers_.contains(id) || creating_.contains(id)) {
      return reject(ttrpc::Code::AlreadyExists, "container " + id + " already exists");
    }
    creating_.insert(id);
  }
  struct Unreserve {
    Service* s;
    const std::string& id;
    ~Unreserve() {
      std::lock_guard lk(s->mu_);
      s->creating_.erase(id);
    }
  } unreserve{this, id};

  auto spec = oci::load_spec_file(r.bundle() + "/config.json");
  if (!spec) return reject(spec.error());
  auto c = std::make_shared<Container>();
  c->id = id;
  c->bundle = r.bundle();
  c->terminal = r.terminal();
  std::vector<MountRequest> mounts;
  for (const auto& m : r.rootfs()) {
    mounts.push_back(MountRequest{m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  auto rootfs = RootfsMounts::mount_all(mounts, r.bundle() + "/rootfs");
  if (!rootfs) return reject(std::move(rootfs.error()).wrap("container " + id));
  c->rootfs = std::move(*rootfs);

  if (auto st = create_in_pod(*c, r, *spec); !st) {
    log::warn("container " + id + ": create failed: " + st.error().what());
    return reject(st.error());
  }

  events::TaskCreate ev;
  ev.set_container_id(id);
  ev.set_bundle(r.bundle());
  *ev.mutable_rootfs() = r.rootfs();
  ev.mutable_io()->set_stdin(r.stdin());
  ev.mutable_io()->set_stdout(r.stdout());
  ev.mutable_io()->set_stderr(r.stderr());
  ev.mutable_io()->set_terminal(r.terminal());
  ev.set_checkpoint(r.checkpoint());
  ev.set_pid(static_cast<uint32_t>(c->pid));
  {
    std::lock_guard lk(mu_);
    containers_[id] = c;
    events_.publish(kTopicCreate, ev);
  }
  log::info("container " + id + ": created in pod " + pod_.id());
  task::CreateTaskResponse resp;
  resp.set_pid(static_cast<uint32_t>(c->pid));
  return resp;
}

Status Service::create_in_pod(Container& c, const task::CreateTaskRequest& r,
                              const oci::Spec& spec) {
  {
    std::unique_lock boot(pod_mu_);
    if (!pod_.running()) pod_hostname_ = spec.hostname.value_or("");
    HULL_TRY(pod_.boot(spec, [this](const std::string& cid) {
      if (!find(cid)) return;
      events::TaskOOM ev;
      ev.set_container_id(cid);
      events_.publish(kTopicOom, ev);
    }));
  }
  std::shared_lock vm(pod_mu_);
  auto undo = [&](Error e) -> Status {
    vm.unlock();
    c.shared.reset();
    std::unique_lock lk(pod_mu_);
    bool alone;
    {
      std::lock_guard m(mu_);
      alone = containers_.empty() && creating_.size() == 1;
    }
    if (alone) {
      if (auto st = pod_.stop(); !st) log::warn(st.error().what());
    }
    return fail(std::move(e));
  };
  if (!pod_.running()) return undo(Error{Errc::NotRunning, 0, "the pod's VM is not running"});
  c.pid = pod_.pid();
  auto shared = container::share_container(pod_.sandbox().paths().shared_dir, c.id,
                                           pod_member_spec(spec, c.pid, pod_hostname_), c.bundle);
  if (!shared) return undo(std::move(shared.error()));
  c.shared.emplace(std::move(*shared));
  auto io = IoRelay::open(stdio_of(r.stdin(), r.stdout(), r.stderr(), r.terminal()),
                          LoggerEnv{c.id, opts_.ns});
  if (!io) return undo(std::move(io.error()));
  const bool has_stdin = (*io)->has_stdin();
  c.init =
      std::make_shared<Process>(c.id, "", stdio_of(r.stdin(), r.stdout(), r.stderr(), r.terminal()),
                                std::move(*io), "", exit_publisher(c.pid));
  sandbox::ContainerClient& client = pod_.client();
  if (auto st = client.create(c.id, c.shared->guest_spec_json,
                              sandbox::StdioMode{r.terminal(), has_stdin}, c.bundle);
      !st) {
    c.init.reset();
    return undo(std::move(st.error()).wrap("creating the container in the VM"));
  }
  c.init->attach_io(client);
  return {};
}

Reply<task::StartResponse> Service::start(const task::StartRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  auto p = process(**c, r.exec_id());
  if (!p) return reject(p.error());
  Process& proc = **p;
  Container& cont = **c;
  std::shared_lock vm(pod_mu_);
  if (!pod_.running()) return reject(Errc::NotRunning, "the pod's VM is not running");
  sandbox::ContainerClient& client = pod_.client();
  const uint32_t pid = static_cast<uint32_t>(cont.pid);
  Status st;
  if (r.exec_id().empty()) {
    st = proc.start(
        client, [&] { return client.start(cont.id); },
        [&] {
          events::TaskStart ev;
          ev.set_container_id(cont.id);
          ev.set_pid(pid);
          events_.publish(kTopicStart, ev);
        });
  } else {
    st = proc.start(
        client,
        [&]() -> Status {
          HULL_TRY(client.exec(cont.id, r.exec_id(), proc.process_json(),
                               sandbox::StdioMode{proc.stdio().terminal, proc.io().has_stdin()}));
          proc.attach_io(client);
          if (auto size = proc.take_pending_size()) {
            (void)client.resize_tty(cont.id, r.exec_id(), static_cast<uint16_t>(size->first),
                                    static_cast<uint16_t>(size->second));
          }
          return {};
        },
        [&] {
          events::TaskExecStarted ev;
          ev.set_container_id(cont.id);
          ev.set_exec_id(r.exec_id());
          ev.set_pid(pid);
          events_.publish(kTopicExecStarted, ev);
        });
  }
  if (!st) return reject(st.error());
  task::StartResponse resp;
  resp.set_pid(pid);
  return resp;
}

void Service::dismantle(Container& c, bool last) {
  std::vector<std::shared_ptr<Process>> procs;
  {
    std::lock_guard lk(c.mu);
    for (auto& [_, p] : c.execs) procs.push_back(p);
  }
  if (c.init) procs.push_back(c.init);
  for (auto& p : procs) p->stop();
  std::unique_lock vm(pod_mu_);
  if (pod_.running()) {
    if (auto st = pod_.client().remove(c.id, 0); !st && st.error().code != Errc::NotFound) {
      log::warn("container " + c.id + ": removing it in the VM: " + st.error().what());
    }
    if (last) pod_.destroy_guest();
  }
  if (c.shared) {
    if (auto st = c.shared->unshare(); !st) log::warn(st.error().what());
    if (auto st = c.shared->rootfs.remove(); !st) log::warn(st.error().what());
    c.shared.reset();
  }
  if (auto st = c.rootfs.unmount(); !st) log::warn(st.error().what());
  if (last) {
    if (auto st = pod_.stop(); !st) log::warn(st.error().what());
  }
}

Reply<task::DeleteResponse> Service::remove(const task::DeleteRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  Container& cont = **c;
  task::DeleteResponse resp;
  resp.set_pid(static_cast<uint32_t>(cont.pid));

  if (!r.exec_id().empty()) {
    std::shared_ptr<Process> p;
    {
      std::lock_guard lk(cont.mu);
      auto it = cont.execs.find(r.exec_id());
      if (it == cont.execs.end()) {
        return reject(Errc::NotFound,
                      "process " + r.exec_id() + " of container " + cont.id + " not found");
      }
      if (it->second->state() == ProcState::Running) {
        return reject(Errc::InvalidState,
                      "cannot delete process " + r.exec_id() + ": it is running");
      }
      p = it->second;
      cont.execs.erase(it);
    }
    p->stop_unstarted(0);
    p->stop();
    if (auto e = p->exit()) {
      resp.set_exit_status(e->status);
      *resp.mutable_exited_at() = to_timestamp(e->at);
    }
    return resp;
  }

  {
    std::lock_guard lk(cont.mu);
    if (cont.deleting)
      return reject(Errc::InvalidState, "container " + cont.id + " is being deleted");
    if (cont.init->state() == ProcState::Running) {
      return reject(Errc::InvalidState, "cannot delete container " + cont.id +
                                            ": its process is running; kill it first");
    }
    cont.deleting = true;
  }
  cont.init->stop_unstarted(kKilledStatus);
  bool last;
  {
    std::lock_guard lk(mu_);
    containers_.erase(cont.id);
    last = containers_.empty() && creating_.empty();
  }
  dismantle(cont, last);
  auto e = cont.init->exit();
  if (e) {
    resp.set_exit_status(e->status);
    *resp.mutable_exited_at() = to_timestamp(e->at);
  }
  events::TaskDelete ev;
  ev.set_container_id(cont.id);
  ev.set_pid(resp.pid());
  ev.set_exit_status(resp.exit_status());
  *ev.mutable_exited_at() = resp.exited_at();
  events_.publish(kTopicDelete, ev);
  log::info("container " + cont.id + ": deleted" + (last ? "; the pod's VM is stopped" : ""));
  return resp;
}

Reply<task::StateResponse> Service::state(const task::StateRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  auto p = process(**c, r.exec_id());
  if (!p) return reject(p.error());
  const Process& proc = **p;
  task::StateResponse resp;
  resp.set_id(proc.id());
  resp.set_exec_id(r.exec_id());
  resp.set_bundle((*c)->bundle);
  resp.set_pid(static_cast<uint32_t>((*c)->pid));
  resp.set_stdin(proc.stdio().in);
  resp.set_stdout(proc.stdio().out);
  resp.set_stderr(proc.stdio().err);
  resp.set_terminal(proc.stdio().terminal);
  bool paused;
  {
    std::lock_guard lk((*c)->mu);
    paused = (*c)->paused;
  }
  switch (proc.state()) {
    case ProcState::Created:
      resp.set_status(TaskStatus::CREATED);
      break;
    case ProcState::Running:
      resp.set_status(paused ? TaskStatus::PAUSED : TaskStatus::RUNNING);
      break;
    case ProcState::Stopped:
      resp.set_status(TaskStatus::STOPPED);
      break;
  }
  if (auto e = proc.exit()) {
    resp.set_exit_status(e->status);
    *resp.mutable_exited_at() = to_timestamp(e->at);
  }
  return resp;
}

Reply<task::WaitResponse> Service::wait(const ttrpc::CallContext& ctx, const task::WaitRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  auto p = process(**c, r.exec_id());
  if (!p) return reject(p.error());
  auto e = (*p)->wait(ctx.stop);
  if (!e) return reject(ttrpc::Code::Cancelled, "wait for " + (*p)->id() + " cancelled");
  task::WaitResponse resp;
  resp.set_exit_status(e->status);
  *resp.mutable_exited_at() = to_timestamp(e->at);
  return resp;
}

Reply<Empty> Service::kill(const task::KillRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  auto p = process(**c, r.exec_id());
  if (!p) return reject(p.error());
  const ProcState s = (*p)->state();
  if (s == ProcState::Stopped && !r.all()) return finished((*p)->id());
  if (s == ProcState::Created && !r.exec_id().empty()) {
    return reject(Errc::InvalidState, "process " + r.exec_id() + " has not started");
  }
  std::shared_lock vm(pod_mu_);
  if (!pod_.running()) return finished((*p)->id());
  auto st = pod_.client().signal(r.id(), r.exec_id(), static_cast<int>(r.signal()), r.all());
  if (!st) {
    if (st.error().code == Errc::NotRunning || st.error().code == Errc::NotFound) {
      return finished((*p)->id());
    }
    return reject(st.error());
  }
  return Empty();
}

Reply<Empty> Service::exec(const task::ExecProcessRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  Container& cont = **c;
  if (auto st = validate_container_id(r.exec_id()); !st) {
    return reject(std::move(st.error()).wrap("exec id"));
  }
  const std::string& json = r.spec().value();
  if (json.empty() || json.front() != '{') {
    return reject(Errc::Invalid, "exec " + r.exec_id() + ": the process spec (" +
                                     r.spec().type_url() + ") is not an OCI process in JSON");
  }
  StdioPaths stdio = stdio_of(r.stdin(), r.stdout(), r.stderr(), r.terminal());
  // A logging binary logs for the exec by its id, as runc's shim does it.
  auto io = IoRelay::open(stdio, LoggerEnv{r.exec_id(), opts_.ns});
  if (!io) return reject(std::move(io.error()).wrap("exec " + r.exec_id()));
  {
    std::lock_guard lk(cont.mu);
    if (cont.deleting || cont.init->state() == ProcState::Stopped) {
      return reject(Errc::InvalidState,
                    "cannot exec in container " + cont.id + ": it is not running");
    }
    if (cont.execs.contains(r.exec_id())) {
      return reject(ttrpc::Code::AlreadyExists, "id " + r.exec_id() + ": already exists");
    }
    cont.execs[r.exec_id()] = std::make_shared<Process>(cont.id, r.exec_id(), stdio, std::move(*io),
                                                        json, exit_publisher(cont.pid));
    events::TaskExecAdded ev;
    ev.set_container_id(cont.id);
    ev.set_exec_id(r.exec_id());
    events_.publish(kTopicExecAdded, ev);
  }
  return Empty();
}

Reply<Empty> Service::resize_pty(const task::ResizePtyRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  auto p = process(**c, r.exec_id());
  if (!p) return reject(p.error());
  if (r.width() == 0 || r.height() == 0 || r.width() > 0xffff || r.height() > 0xffff) {
    return Empty();  // no size to give (a detached client)
  }
  const ProcState s = (*p)->state();
  if (s == ProcState::Stopped) return finished((*p)->id());
  if (s == ProcState::Created && !r.exec_id().empty()) {
    (*p)->set_pending_size(r.height(), r.width());
    return Empty();
  }
  std::shared_lock vm(pod_mu_);
  if (!pod_.running()) return finished((*p)->id());
  if (auto st = pod_.client().resize_tty(r.id(), r.exec_id(), static_cast<uint16_t>(r.height()),
                                         static_cast<uint16_t>(r.width()));
      !st) {
    return reject(st.error());
  }
  return Empty();
}

Reply<Empty> Service::close_io(const task::CloseIORequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  auto p = process(**c, r.exec_id());
  if (!p) return reject(p.error());
  if (r.stdin()) (*p)->io().close_stdin();
  return Empty();
}

Reply<task::PidsResponse> Service::pids(const task::PidsRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  std::shared_lock vm(pod_mu_);
  if (!pod_.running()) return reject(Errc::NotRunning, "the pod's VM is not running");
  auto ps = pod_.client().list_processes(r.id());
  if (!ps) return reject(ps.error());
  task::PidsResponse resp;
  for (const auto& p : *ps) resp.add_processes()->set_pid(static_cast<uint32_t>(p.pid()));
  return resp;
}

Reply<Empty> Service::pause(const task::PauseRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  if ((*c)->init->state() != ProcState::Running) {
    return reject(Errc::InvalidState, "cannot pause container " + r.id() + ": it is " +
                                          std::string(state_name((*c)->init->state())));
  }
  std::shared_lock vm(pod_mu_);
  if (!pod_.running()) return reject(Errc::NotRunning, "the pod's VM is not running");
  if (auto st = pod_.client().pause(r.id()); !st) return reject(st.error());
  std::lock_guard lk((*c)->mu);
  (*c)->paused = true;
  events::TaskPaused ev;
  ev.set_container_id(r.id());
  events_.publish(kTopicPaused, ev);
  return Empty();
}

Reply<Empty> Service::resume(const task::ResumeRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  std::shared_lock vm(pod_mu_);
  if (!pod_.running()) return reject(Errc::NotRunning, "the pod's VM is not running");
  if (auto st = pod_.client().resume(r.id()); !st) return reject(st.error());
  std::lock_guard lk((*c)->mu);
  (*c)->paused = false;
  events::TaskResumed ev;
  ev.set_container_id(r.id());
  events_.publish(kTopicResumed, ev);
  return Empty();
}

Reply<Empty> Service::update(const task::UpdateTaskRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  const std::string& json = r.resources().value();
  if (json.empty() || json.front() != '{') {
    return reject(Errc::Invalid, "update of " + r.id() + ": the resources (" +
                                     r.resources().type_url() +
                                     ") are not OCI linux.resources in JSON");
  }
  std::shared_lock vm(pod_mu_);
  if (!pod_.running()) return reject(Errc::NotRunning, "the pod's VM is not running");
  if (auto st = pod_.client().update(r.id(), json); !st) return reject(st.error());
  return Empty();
}

Reply<task::StatsResponse> Service::stats(const task::StatsRequest& r) {
  auto c = find(r.id());
  if (!c) return reject(c.error());
  std::shared_lock vm(pod_mu_);
  if (!pod_.running()) return reject(Errc::NotRunning, "the pod's VM is not running");
  auto s = pod_.client().stats(r.id());
  if (!s) return reject(s.error());
  task::StatsResponse resp;
  *resp.mutable_stats() = metrics_any(*s);
  return resp;
}

Reply<Empty> Service::checkpoint(const task::CheckpointTaskRequest& r) {
  return reject(ttrpc::Code::Unimplemented,
                "checkpoint of " + r.id() +
                    ": hull does not support checkpoints (the container's state lives in "
                    "its VM, which cannot be saved and restored yet)");
}

Reply<task::ConnectResponse> Service::connect(const task::ConnectRequest& r) {
  task::ConnectResponse resp;
  resp.set_shim_pid(static_cast<uint32_t>(::getpid()));
  if (auto c = find(r.id())) resp.set_task_pid(static_cast<uint32_t>((*c)->pid));
  return resp;
}

Reply<Empty> Service::shutdown(const task::ShutdownRequest&) {
  {
    std::lock_guard lk(mu_);
    if (!containers_.empty() || !creating_.empty()) return Empty();  // still serving tasks
  }
  if (opts_.on_shutdown) opts_.on_shutdown();
  return Empty();
}

void Service::teardown() {
  std::vector<std::shared_ptr<Container>> left;
  {
    std::lock_guard lk(mu_);
    for (auto& [_, c] : containers_) left.push_back(c);
    containers_.clear();
  }
  for (size_t i = 0; i < left.size(); ++i) {
    log::warn("container " + left[i]->id + ": still there as the shim exits; removing it");
    dismantle(*left[i], i + 1 == left.size());
  }
  std::unique_lock vm(pod_mu_);
  if (auto st = pod_.stop(); !st) log::warn(st.error().what());
}

}  // namespace hull::shim
