#include "agent/rpc/containers.h"

#include <signal.h>

#include <algorithm>
#include <thread>

#include "agent/rpc/guest_info.h"
#include "agent/rpc/proc_info.h"
#include "agent/rpc/stats.h"
#include "common/log.h"
#include "common/oci/limits.h"

namespace hull::agent::rpc {

namespace {

constexpr auto kExitPoll = std::chrono::milliseconds(10);
constexpr uint32_t kMaxSignal = 64;
// Exited, waited-for and drained exec records beyond this many are forgotten.
constexpr size_t kKeptExecRecords = 16;

// `json` placed as the value of `path` in an otherwise empty spec, parsed with
// parse_spec's checks (size, depth, field types). Keys a caller might smuggle
// in next to it land in fields the caller then ignores.
Result<oci::Spec> parse_embedded(std::string_view json, std::string_view prefix,
                                 std::string_view suffix, std::string_view origin) {
  if (json.size() > oci::kMaxConfigBytes) {
    return fail(Errc::Invalid, std::string(origin) + ": larger than " +
                                   std::to_string(oci::kMaxConfigBytes) + " bytes");
  }
  std::string text = R"({"ociVersion":"1.1.0",)";
  text.append(prefix).append(json).append(suffix).append("}");
  return oci::parse_spec(text, origin);
}

Status check_terminal(const oci::Process& p, const Stdio& stdio, std::string_view what) {
  bool spec_terminal = p.terminal.value_or(false);
  if (spec_terminal != stdio.terminal()) {
    return fail(Errc::Invalid,
                std::string(what) + ": stdio.terminal (" + (stdio.terminal() ? "true" : "false") +
                    ") differs from process.terminal (" + (spec_terminal ? "true" : "false") + ")");
  }
  return {};
}

std::unexpected<Error> sandbox_destroyed(const std::string& id) {
  return fail(Errc::NotRunning, "container " + id + ": the sandbox is being destroyed");
}

bool drained(const ProcessRecord& r) {
  std::lock_guard out(r.io.out->mu);
  std::lock_guard err(r.io.err->mu);
  return !r.io.out->fd && !r.io.err->fd;
}

}  // namespace

void join_guest_network(oci::Spec& spec) {
  if (!spec.linux || !spec.linux->namespaces) return;
  std::erase_if(*spec.linux->namespaces,
                [](const oci::Namespace& ns) { return ns.type == "network" && !ns.path; });
}

Result<oci::Process> parse_process_json(std::string_view json) {
  HULL_ASSIGN(spec, parse_embedded(json, R"("process":)", "", "ExecProcess"));
  if (!spec.process) return fail(Errc::Invalid, "ExecProcess: process: is required");
  if (!spec.process->args || spec.process->args->empty()) {
    return fail(Errc::Invalid, "ExecProcess: process.args: must not be empty");
  }
  if (spec.process->cwd.empty() || spec.process->cwd[0] != '/') {
    return fail(Errc::Invalid, "ExecProcess: process.cwd: must be an absolute path");
  }
  return std::move(*spec.process);
}

Result<oci::Resources> parse_resources_json(std::string_view json) {
  HULL_ASSIGN(spec, parse_embedded(json, R"("linux":{"resources":)", "}", "UpdateContainer"));
  if (!spec.linux || !spec.linux->resources) {
    return fail(Errc::Invalid, "UpdateContainer: linux.resources: is required");
  }
  return std::move(*spec.linux->resources);
}

ContainerRegistry::~ContainerRegistry() {
  destroy_all();
}

Result<std::shared_ptr<ContainerRegistry::Entry>> ContainerRegistry::find(const std::string& id) {
  std::lock_guard lock(mu_);
  if (destroyed_) return sandbox_destroyed(id);
  auto it = entries_.find(id);
  if (it == entries_.end()) return fail(Errc::NotFound, "container " + id + " does not exist");
  return it->second;
}

Status ContainerRegistry::watch_exit(init::Reaper::Hold& hold,
                                     const std::shared_ptr<ProcessRecord>& rec) {
  // A strong reference: the record (and its waiters) lives until the pid is reaped.
  hold.watch(rec->pid, [rec](pid_t pid, int status) { rec->on_reaped(pid, status); });
  return {};
}

Status ContainerRegistry::create(const CreateContainerRequest& req) {
  const std::string& id = req.container_id();
  if (id.empty()) return fail(Errc::Invalid, "CreateContainer: container_id: is required");
  {
    std::lock_guard lock(mu_);
    if (destroyed_) return sandbox_destroyed(id);
    if (entries_.contains(id) || creating_.contains(id)) {
      return fail(Errc::Exists, "container " + id + " already exists");
    }
    creating_.insert(id);
  }
  struct Unreserve {
    ContainerRegistry* r;
    std::string id;
    ~Unreserve() {
      std::lock_guard lock(r->mu_);
      r->creating_.erase(id);
    }
  } unreserve{this, id};

  if (req.oci_spec_json().size() > oci::kMaxConfigBytes) {
    return fail(Errc::Invalid,
                "config.json: larger than " + std::to_string(oci::kMaxConfigBytes) + " bytes");
  }
  HULL_ASSIGN(spec, oci::parse_spec(req.oci_spec_json(), "config.json"));
  HULL_TRY(oci::validate(spec, "config.json"));
  if (!spec.process) return fail(Errc::Invalid, "config.json: process: is required");
  join_guest_network(spec);
  HULL_TRY(check_terminal(*spec.process, req.stdio(), "CreateContainer"));
  for (const Mount& m : req.extra_mounts()) {
    oci::Mount om;
    om.destination = m.destination();
    if (!m.type().empty()) om.type = m.type();
    if (!m.source().empty()) om.source = m.source();
    om.options = std::vector<std::string>(m.options().begin(), m.options().end());
    if (!spec.mounts) spec.mounts.emplace();
    spec.mounts->push_back(std::move(om));
  }

  auto rec = std::make_shared<ProcessRecord>(id, "");
  const bool terminal = spec.process->terminal.value_or(false);
  ChildEnds child;
  if (!terminal) {
    HULL_ASSIGN(ends, make_pipes(rec->io, req.stdio().stdin()));
    child = std::move(ends);
  }
  engine::CreateOptions o;
  o.id = id;
  o.spec = std::move(spec);
  o.bundle = opts_.shared_dir;
  o.state_bundle = req.bundle();
  o.cgroup_root = opts_.cgroup_root;
  o.stdio = child.stdio();
  o.timeout = opts_.engine_timeout;
  std::shared_ptr<engine::Container> container;
  log::debug("container " + id + ": creating");
  {
    auto hold = opts_.reaper->hold();
    log::debug("container " + id + ": reaper held");
    HULL_ASSIGN(c, engine::Container::create(o));
    log::debug("container " + id + ": init is pid " + std::to_string(c->pid()));
    container = std::move(c);
    rec->pid = container->pid();
    rec->container = container;
    HULL_TRY(watch_exit(hold, rec));
  }
  if (terminal) attach_pty(rec->io, container->take_console());
  if (opts_.oom && container->cgroup()) {
    if (auto st = opts_.oom->watch(id, container->cgroup()->path() + "/memory.events"); !st) {
      log::warn("container " + id + ": no OOM events: " + st.error().what());
    }
  }
  auto e = std::make_shared<Entry>();
  e->container = std::move(container);
  e->init = std::move(rec);
  {
    std::lock_guard lock(mu_);
    if (!destroyed_) {
      entries_[id] = std::move(e);
      return {};
    }
  }
  // DestroySandbox ran while this container was being made: it goes too.
  (void)destroy_entry(id, *e);
  e->init->abandon_waiters();
  return sandbox_destroyed(id);
}

Status ContainerRegistry::start(const std::string& id) {
  HULL_ASSIGN(e, find(id));
  return e->container->start();
}

Status ContainerRegistry::exec(const ExecProcessRequest& req) {
  HULL_ASSIGN(e, find(req.container_id()));
  const std::string& eid = req.exec_id();
  if (eid.empty()) return fail(Errc::Invalid, "ExecProcess: exec_id: is required");
  HULL_ASSIGN(process, parse_process_json(req.oci_process_json()));
  HULL_TRY(check_terminal(process, req.stdio(), "ExecProcess"));

  {
    std::lock_guard elock(e->mu);
    if (e->execs.size() >= kKeptExecRecords) {
      std::erase_if(e->execs, [](const auto& kv) {
        return kv.second->wait_status() && kv.second->reported() && drained(*kv.second);
      });
    }
    if (e->execs.contains(eid) || e->starting.contains(eid)) {
      return fail(Errc::Exists,
                  "container " + req.container_id() + ": exec " + eid + " already exists");
    }
    e->starting.insert(eid);
  }
  // The engine's exec runs without the entry's lock: other calls on the
  // container's processes go on meanwhile.
  struct Unreserve {
    Entry& e;
    const std::string& eid;
    ~Unreserve() {
      std::lock_guard elock(e.mu);
      e.starting.erase(eid);
    }
  } unreserve{*e, eid};
  auto rec = std::make_shared<ProcessRecord>(req.container_id(), eid);
  const bool terminal = process.terminal.value_or(false);
  ChildEnds child;
  if (!terminal) {
    HULL_ASSIGN(ends, make_pipes(rec->io, req.stdio().stdin()));
    child = std::move(ends);
  }
  {
    auto hold = opts_.reaper->hold();
    HULL_ASSIGN(p, e->container->exec(process, child.stdio(), req.cgroup()));
    rec->pid = p->pid();
    rec->process = std::move(p);
    HULL_TRY(watch_exit(hold, rec));
  }
  if (terminal) attach_pty(rec->io, rec->process->take_console());
  std::lock_guard elock(e->mu);
  e->execs[eid] = std::move(rec);
  return {};
}

Result<std::shared_ptr<ProcessRecord>> ContainerRegistry::process(const std::string& id,
                                                                  const std::string& exec_id) {
  HULL_ASSIGN(e, find(id));
  if (exec_id.empty()) return e->init;
  std::lock_guard lock(e->mu);
  auto it = e->execs.find(exec_id);
  if (it == e->execs.end()) {
    return fail(Errc::NotFound, "container " + id + ": exec " + exec_id + " does not exist");
  }
  return it->second;
}

Status ContainerRegistry::signal(const SignalProcessRequest& req) {
  if (req.signal() > kMaxSignal) {
    return fail(Errc::Invalid, "SignalProcess: signal " + std::to_string(req.signal()) +
                                   " is not between 0 and " + std::to_string(kMaxSignal));
  }
  int sig = static_cast<int>(req.signal());
  HULL_ASSIGN(e, find(req.container_id()));
  if (sig == 0) {
    // The liveness probe (`kill ID 0`): nothing is sent; the container's init
    // (with `all` too, as runc) or the exec'd process must not have ended.
    HULL_ASSIGN(rec, process(req.container_id(), req.all() ? "" : req.exec_id()));
    if (rec->wait_status()) {
      return fail(Errc::NotRunning, "container " + req.container_id() + " is not running");
    }
    return {};
  }
  if (req.exec_id().empty() || req.all()) return e->container->signal(sig, req.all());
  HULL_ASSIGN(rec, process(req.container_id(), req.exec_id()));
  return rec->process->signal(sig);
}

Status ContainerRegistry::destroy_entry(const std::string& id, Entry& e) {
  HULL_TRY(e.container->destroy());
  if (opts_.oom) opts_.oom->unwatch(id);
  return {};
}

Status ContainerRegistry::remove(const std::string& id, uint32_t timeout_s) {
  HULL_ASSIGN(e, find(id));
  if (timeout_s > 0 && !e->init->wait_status() &&
      e->container->state() == engine::ContainerState::Running) {
    (void)e->container->signal(SIGTERM, true);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (!e->init->wait_status() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(kExitPoll);
    }
  }
  HULL_TRY(wrap(destroy_entry(id, *e), "RemoveContainer " + id));
  std::lock_guard lock(mu_);
  entries_.erase(id);
  return {};
}

Result<ListProcessesResponse> ContainerRegistry::list_processes(const std::string& id) {
  HULL_ASSIGN(e, find(id));
  std::vector<pid_t> pids;
  if (engine::Cgroup* cg = e->container->cgroup()) {
    HULL_ASSIGN(p, cg->pids());
    pids = std::move(p);
  } else if (!e->init->wait_status()) {
    pids.push_back(e->init->pid);
  }
  ListProcessesResponse out;
  if (auto mem = read_meminfo()) out.set_mem_total_kib(mem->total_kib);
  IdNameCache names;
  if (!pids.empty()) {  // the init's root (or the first process's)
    pid_t root_of = std::find(pids.begin(), pids.end(), e->init->pid) != pids.end() ? e->init->pid
                                                                                    : pids.front();
    const IdNameCache::Tables& t = names.of(root_of);
    auto add = [](const std::map<uint32_t, std::string>& from, auto* to) {
      for (const auto& [id, name] : from) {
        if (static_cast<size_t>(to->size()) >= kMaxReplyIdNames) break;
        IdName* n = to->Add();
        n->set_id(id);
        n->set_name(name);
      }
    };
    add(t.users, out.mutable_users());
    add(t.groups, out.mutable_groups());
  }
  size_t bytes = out.ByteSizeLong();
  for (pid_t pid : pids) {
    auto info = read_process_info(pid, names);
    if (!info) continue;  // NotFound: it exited meanwhile
    // The reply must fit the channel's limit: past the budget, environments
    // and thread lists go first, then whole processes (the host says so).
    size_t size = info->ByteSizeLong();
    if (bytes + size > kProcessListBudgetBytes) {
      info->clear_environ();
      info->clear_tasks();
      size = info->ByteSizeLong();
      out.set_truncated(true);
    }
    if (bytes + size > kProcessListBudgetBytes + kProcessListBudgetBytes / 4) break;
    bytes += size;
    *out.add_processes() = std::move(*info);
  }
  return out;
}

Result<CgroupStats> ContainerRegistry::stats(const std::string& id) {
  HULL_ASSIGN(e, find(id));
  HULL_ASSIGN(s, e->container->stats());
  return to_proto(s);
}

Status ContainerRegistry::pause(const std::string& id) {
  HULL_ASSIGN(e, find(id));
  return e->container->pause();
}

Status ContainerRegistry::resume(const std::string& id) {
  HULL_ASSIGN(e, find(id));
  return e->container->resume();
}

Status ContainerRegistry::update(const std::string& id, const std::string& resources_json) {
  HULL_ASSIGN(e, find(id));
  HULL_ASSIGN(r, parse_resources_json(resources_json));
  return e->container->update(r);
}

void ContainerRegistry::destroy_all() {
  std::map<std::string, std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(mu_);
    destroyed_ = true;
    all.swap(entries_);
  }
  for (auto& [id, e] : all) {
    if (auto st = destroy_entry(id, *e); !st)
      log::warn("destroying " + id + ": " + st.error().what());
    e->init->abandon_waiters();
    std::lock_guard lock(e->mu);
    for (auto& [eid, rec] : e->execs) rec->abandon_waiters();
  }
}

}  // namespace hull::agent::rpc
