#include "runtime/container/container.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "common/container_id.h"
#include "common/file.h"
#include "common/hooks/hooks.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "common/unique_fd.h"
#include "runtime/config/config.h"
#include "runtime/container/leftovers.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/network.h"
#include "runtime/container/paths.h"
#include "runtime/container/proc.h"
#include "runtime/container/sizing.h"
#include "runtime/container/stats_event.h"
#include "runtime/container/sync.h"
#include "runtime/container/teardown.h"
#include "runtime/hostcgroup/cgroup.h"
#include "runtime/monitor/monitor.h"
#include "runtime/network/netns.h"
#include "runtime/network/wiring.h"
#include "runtime/sandbox/container_client_impl.h"
#include "runtime/sandbox/dir_guard.h"
#include "runtime/sandbox/layout.h"
#include "runtime/share/rootfs.h"
#include "runtime/share/share.h"

namespace hull::container {
namespace {

using std::chrono::milliseconds;
using Json = nlohmann::json;

// From spawning the monitor to its `ready`: a VM boot (under TCG up to tens
// of seconds) plus the container's creation in the guest.
constexpr milliseconds kReadyTimeout{120000};
// The monitor bounds its own wait for a boot slot and for the agent by
// vm.start_timeout_s each (runtime/sandbox/boot_slots.h, boot_progress.h), then
// creates the container; the CLI waits that long and a margin for its Ready.
milliseconds boot_ready_timeout(const config::Config& cfg) {
  return 2 * std::chrono::seconds(cfg.vm.start_timeout_s) + sandbox::kContainerCallTimeout +
         kReadyTimeout;
}
constexpr milliseconds kAgentConnectTimeout{10000};
constexpr int kMonitorExitWaitMs = 15000;

// Removes a state directory unless committed (create's error paths).
class StateGuard {
 public:
  StateGuard(oci::StateStore& store, std::string id) : store_(store), id_(std::move(id)) {}
  ~StateGuard() {
    if (!id_.empty()) (void)store_.remove(id_);
  }
  void commit() { id_.clear(); }

 private:
  oci::StateStore& store_;
  std::string id_;
};

std::string absolute_path(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf)) return buf;
  return p;
}

TeardownTrace trace_of(const Context& ctx) {
  return ctx.seams ? ctx.seams->trace : TeardownTrace();
}

bool monitor_alive(const oci::State& s) {
  return s.pid > 0 && process_alive(s.pid, s.pid_start_time);
}

oci::State derived(oci::State s) {
  s.status = derive_status(s.status, monitor_alive(s));
  if (s.status == oci::ContainerStatus::Stopped || s.status == oci::ContainerStatus::Creating) {
    s.pid = 0;  // no container process yet, or no more
  }
  return s;
}

std::vector<hooks::Hook> hooks_of(const Record& r, hooks::Kind kind) {
  if (!r.hooks) return {};
  return hooks::from_spec(*r.hooks, kind);
}

// Runs the record's hooks of `kind` with `s` (status set as the spec says)
// on stdin, in `cwd_fd` (borrowed) when it is not -1.
Status run_hooks(const Record& rec, const oci::State& s, hooks::Kind kind, int cwd_fd = -1) {
  auto list = hooks_of(rec, kind);
  if (list.empty()) return {};
  log::debug("container " + s.id + ": running " + std::to_string(list.size()) + " " +
             std::string(hooks::kind_name(kind)) + " hook(s)");
  oci::State st = s;
  st.status = hooks::status_during(kind);
  std::vector<Error> warnings;
  auto r = hooks::run_hooks(kind, list, hooks::state_json(st), warnings, cwd_fd);
  for (const auto& w : warnings) log::warn(w.what());
  return r;
}

// The startContainer hooks run in the guest, in the container, before `start`
// returns (agent/engine/start_hooks.h): the call waits for them too.
std::chrono::milliseconds start_timeout(const Record& r) {
  auto total = hooks::total_timeout(hooks_of(r, hooks::Kind::StartContainer));
  if (!total) return sandbox::kWaitForever;
  return sandbox::kContainerCallTimeout + *total;
}

// A connection to a container's agent and the ContainerClient over it.
struct AgentConn {
  sandbox::AgentClient agent;
  sandbox::GrpcContainerClient guest;
  explicit AgentConn(sandbox::AgentClient c) : agent(std::move(c)), guest(agent) {}
  AgentConn(const AgentConn&) = delete;
  AgentConn& operator=(const AgentConn&) = delete;
};

// The client of the container's agent: the context's seam when it has one.
Result<std::shared_ptr<sandbox::ContainerClient>> connect(const Context& ctx, const Record& r) {
  if (ctx.seams && ctx.seams->connect) return ctx.seams->connect(r);
  const std::string& id = r.state.id;
  if (r.vsock_socket.empty()) {
    return fail(Errc::InvalidState, "container " + id + ": state.json names no sandbox");
  }
  HULL_ASSIGN(client,
              wrap(sandbox::AgentClient::connect(
                       r.vsock_socket, std::chrono::steady_clock::now() + kAgentConnectTimeout),
                   "container " + id + ": connecting to its VM"));
  auto conn = std::make_shared<AgentConn>(std::move(client));
  return std::shared_ptr<sandbox::ContainerClient>(conn, &conn->guest);  // keeps conn alive
}

// Reaps the monitor (our child), giving it `wait_ms` to tear its VM down
// first; then SIGKILL (its pid cannot be reused before it is reaped). Its VM's
// processes, in the container's host cgroup, go with that cgroup.
void reap_within(pid_t pid, int wait_ms) {
  UniqueFd fd(::pidfd_open(pid, 0));
  if (!fd || !pidfd_wait_exit(fd.get(), wait_ms)) ::kill(pid, SIGKILL);
  int ws = 0;
  while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
  }
}

// Starts the monitor inside the container's host cgroup: this process joins
// it for the fork, so the monitor is in it from its first instruction, before
// it starts hull-vsock, virtiofsd and QEMU, and then goes back.
Result<pid_t> spawn_monitor_in(const Context& ctx, const hostcgroup::Cgroup& cgroup,
                               const MonitorArgs& ma, int sync_fd) {
  HULL_ASSIGN(inside, cgroup.join_self());
  auto pid = ctx.seams && ctx.seams->spawn_monitor ? ctx.seams->spawn_monitor(ma, sync_fd)
                                                   : spawn_monitor(ma, sync_fd);
  if (auto st = inside.restore(); !st) {
    log::warn("leaving the container's host cgroup: " + st.error().what());
  }
  return pid;
}

}  // namespace

void lift_host_cpu_quota(const std::string& root, const std::string& id) {
  Context ctx;
  ctx.root = root;
  if (auto r = load_unlocked(ctx, id)) unlimit_host_cgroup(*r);
}

Result<pid_t> create(const Context& ctx, const CreateOptions& o) {
  HULL_TRY(validate_container_id(o.id));
  if (o.preserve_fds > 0) {
    return fail(Errc::Unsupported,
                "--preserve-fds " + std::to_string(o.preserve_fds) +
                    ": file descriptors cannot be passed into a hull container's VM");
  }
  std::string bundle = absolute_path(o.bundle.empty() ? "." : o.bundle);
  if (::access((bundle + "/config.json").c_str(), F_OK) != 0 && errno == ENOENT) {
    return fail(Errc::NotFound, "open " + bundle +
                                    "/config.json: no such file or directory (is --bundle the "
                                    "directory holding config.json?)");
  }
  HULL_ASSIGN(spec, oci::load_spec_file(bundle + "/config.json"));
  log::debug("container " + o.id + ": loaded " + bundle + "/config.json");
  HULL_ASSIGN(cfg, config::load());
  // Annotation, cap and resources errors before any VM boots.
  HULL_ASSIGN(size, vm_size(spec, cfg.vm));
  HULL_TRY(guest_spec(spec, o.id));
  // --network host / container:X are refused before anything exists.
  HULL_TRY(check_network_choice(network_choice(spec)));
  bool terminal = spec.process && spec.process->terminal.value_or(false);
  if (terminal && o.console_socket.empty()) {
    return fail(Errc::Invalid,
                "cannot allocate tty if hull will detach without setting console socket");
  }
  if (!terminal && !o.console_socket.empty()) {
    return fail(Errc::Invalid, "cannot use console socket if hull will not detach or allocate tty");
  }

  oci::StateStore store(ctx.root);
  HULL_ASSIGN(lock, store.create(o.id));
  StateGuard guard(store, o.id);
  Record r;
  oci::State& s = r.state;
  s.id = o.id;
  s.bundle = bundle;
  s.rootfs = spec.root ? (spec.root->path.starts_with("/") ? spec.root->path
                                                           : bundle + "/" + spec.root->path)
                       : "";
  s.created = log::rfc3339_now();
  s.status = ContainerStatus::Creating;
  // Until the monitor runs, the pid that keeps the status is this process's:
  // `state` says "creating" while it works and "stopped" if it died midway.
  s.pid = ::getpid();
  if (auto self = read_proc_stat(s.pid, kProcStatStartTime)) s.pid_start_time = self->start_time;
  if (spec.annotations) s.annotations = *spec.annotations;
  r.hooks = spec.hooks;
  // The host cgroup first: recorded in the state before anything runs in it,
  // so that `delete` of a create that died midway still removes it.
  HULL_ASSIGN(cgroup, hostcgroup::Cgroup::create(spec, ctx.systemd_cgroup, o.id));
  r.host_cgroup = cgroup.to_json();
  cgroup.commit();  // the record has it: tear_down removes it on failure
  log::debug("container " + o.id + ": host cgroup made at linux.cgroupsPath \"" +
             r.host_cgroup->value("path", std::string()) + "\"");
  if (size_t n = cgroup.foreign_tasks(); n > 0) {
    // runc 1.1's words; its VM shares the cgroup, and delete kills only its own.
    log::warn("container's cgroup is not empty: " + std::to_string(n) +
              " process(es) found (linux.cgroupsPath " + cgroup.path() +
              "); the container's VM joins them there");
  }
  // Every failure from here: tear_down (teardown.h), as `delete` does, with
  // `end_monitor` once a monitor runs. When that fails, the state stays, as
  // stopped, with what is left in it, so that `delete -f` can try again.
  auto give_up = [&](Error e, const std::function<void()>& end_monitor = {}) -> Result<pid_t> {
    auto torn = tear_down(ctx.root, r, end_monitor, trace_of(ctx));
    if (torn) return fail(std::move(e));
    std::string why = torn.error().what();
    s.status = ContainerStatus::Stopped;
    s.pid = 0;
    s.pid_start_time = 0;
    if (auto st = save(store, r); !st) {
      return fail(Errc::System, e.what() + "; cleaning up: " + why +
                                    "; keeping the state for a retry: " + st.error().what() +
                                    ": remove what is left by hand");
    }
    guard.commit();
    return fail(e.code, e.what() + "; cleaning up: " + why + ": the container's state is kept, " +
                            "stopped: run `hull delete -f " + o.id + "` to finish");
  };
  if (auto st = save(store, r); !st) return give_up(std::move(st.error()));
  if (auto st = cgroup.limit_memory(host_memory_limit_bytes(size.memory_mib)); !st) {
    return give_up(std::move(st.error()));
  }

  auto pair = sync_pair();
  if (!pair) return give_up(std::move(pair.error()));
  MonitorArgs ma;
  ma.root = ctx.root;
  ma.id = o.id;
  ma.bundle = bundle;
  ma.console_socket = o.console_socket.empty() ? "" : absolute_path(o.console_socket);
  ma.log_path = ctx.log_path;
  ma.log_format = ctx.log_format;
  ma.debug = ctx.debug;
  ma.env.push_back(std::string(hostcgroup::kOwnerEnv) + "=" + cgroup.owner());
  auto spawned = spawn_monitor_in(ctx, cgroup, ma, pair->second.get());
  if (!spawned) return give_up(std::move(spawned.error()));
  pid_t pid = *spawned;
  pair->second.reset();
  log::debug("container " + o.id + ": monitor " + std::to_string(pid) +
             " started; waiting for its VM to boot and create the container");
  // Every failure once the monitor runs. Closing the sync socket tells a
  // monitor past Ready or one that reported an error to tear its VM down and
  // exit: at full speed (tear_down lifts the CPU quota first) and within
  // kMonitorExitWaitMs, or it is killed; `kill_now`: a monitor that broke the
  // protocol or hung is killed at once.
  auto abort = [&](Error e, bool kill_now = false) -> Result<pid_t> {
    return give_up(std::move(e), [&] {
      pair->first.reset();
      reap_within(pid, kill_now ? 0 : kMonitorExitWaitMs);
    });
  };
  // The monitor is in the container's network namespace: the hooks that
  // come before the VM see it as the container's pid (docker's setkey hook
  // configures the namespace of that pid), then it wires and boots.
  auto in_ns = recv_sync(pair->first.get(), kReadyTimeout);
  if (!in_ns) return abort(std::move(in_ns.error()).wrap("container " + o.id), true);
  if (in_ns->type == SyncType::Error) return abort(std::move(in_ns->error));
  if (in_ns->type != SyncType::Namespaces) {
    return abort(Error{Errc::GuestProtocol, 0,
                       "container " + o.id + ": the monitor sent a message out of turn " +
                           "instead of Namespaces"},
                 true);
  }
  {
    oci::State hs = s;
    hs.pid = pid;
    auto hstat = read_proc_stat(pid, kProcStatStartTime);
    hs.pid_start_time = hstat ? hstat->start_time : 0;
    for (auto kind : {hooks::Kind::Prestart, hooks::Kind::CreateRuntime}) {
      if (auto st = run_hooks(r, hs, kind); !st) return abort(std::move(st.error()));
    }
  }
  SyncMessage boot;
  boot.type = SyncType::Boot;
  if (auto st = send_sync(pair->first.get(), boot); !st) return abort(std::move(st.error()));
  auto ready = recv_sync(pair->first.get(), boot_ready_timeout(cfg));
  if (!ready) return abort(std::move(ready.error()).wrap("container " + o.id), true);
  if (ready->type == SyncType::Error) return abort(std::move(ready->error));
  if (ready->type != SyncType::Ready) {
    return abort(Error{Errc::GuestProtocol, 0,
                       "container " + o.id + ": the monitor sent a message out of turn " +
                           "instead of Ready"},
                 true);
  }
  apply_vm_report(r, ready->body);
  log::debug("container " + o.id + ": created in its VM (" +
             record_to_json(r).value("procs", Json()).dump() + ")");
  if (spec.linux && spec.linux->resources) {
    if (auto st = cgroup.limit_bandwidth(*spec.linux->resources); !st) {
      return abort(std::move(st.error()));
    }
  }
  auto stat = read_proc_stat(pid, kProcStatStartTime);
  s.pid = pid;
  s.pid_start_time = stat ? stat->start_time : 0;
  s.status = ContainerStatus::Created;
  if (auto st = save(store, r); !st) return abort(std::move(st.error()));
  if (!hooks_of(r, hooks::Kind::CreateContainer).empty()) {
    auto rootfs = open_shared_rootfs(r);
    if (!rootfs) return abort(std::move(rootfs.error()).wrap("createContainer hooks"));
    if (auto st = run_hooks(r, s, hooks::Kind::CreateContainer, rootfs->get()); !st) {
      return abort(std::move(st.error()));
    }
    // root.readonly: what the hooks wrote stays, read-only from now on (the
    // share was left writable for them; runtime/share/share.cc).
    if (spec.root && spec.root->readonly.value_or(false)) {
      mount_attr ro{};
      ro.attr_set = MOUNT_ATTR_RDONLY;
      if (::mount_setattr(rootfs->get(), "", AT_EMPTY_PATH, &ro, sizeof ro) != 0) {
        return abort(Error{Errc::System, errno,
                           "root.readonly: making the shared rootfs read-only after the "
                           "createContainer hooks"});
      }
    }
  }
  if (!o.pid_file.empty()) {
    if (auto st = write_file_atomic(o.pid_file, std::to_string(pid), 0644); !st) {
      return abort(std::move(st.error()).wrap("writing --pid-file"));
    }
  }
  SyncMessage commit;
  commit.type = SyncType::Commit;
  if (auto st = send_sync(pair->first.get(), commit); !st) return abort(std::move(st.error()));
  guard.commit();
  cgroup.commit();
  log::debug("container " + o.id + ": created, pid " + std::to_string(pid));
  return pid;
}

Status start(const Context& ctx, const std::string& id) {
  HULL_ASSIGN(locked, load(ctx, id));
  Record& r = locked.record;
  oci::State s = derived(r.state);
  HULL_TRY(transition(id, s.status, Op::Start));
  log::debug("container " + id + ": starting its process");
  HULL_ASSIGN(conn, connect(ctx, r));
  // A failing startContainer hook ends the container's init in the guest; a
  // start that failed otherwise while hooks may run (the wait ran out) stops
  // the container too, as the spec asks for a failed hook.
  if (auto st = conn->start(id, start_timeout(r)); !st) {
    if (!hooks_of(r, hooks::Kind::StartContainer).empty()) {
      (void)conn->signal(id, "", SIGKILL, true);
    }
    return st;
  }
  r.state.status = ContainerStatus::Running;
  HULL_TRY(locked.save());
  s.status = ContainerStatus::Running;
  return run_hooks(r, s, hooks::Kind::Poststart);
}

Result<oci::State> state(const Context& ctx, const std::string& id) {
  HULL_ASSIGN(r, load_unlocked(ctx, id));
  return derived(std::move(r.state));
}

Result<std::vector<oci::State>> list(const Context& ctx) {
  oci::StateStore store(ctx.root);
  HULL_ASSIGN(ids, store.list());
  std::vector<oci::State> out;
  for (const auto& id : ids) {
    auto r = load_unlocked(ctx, id);
    if (r) out.push_back(derived(std::move(r->state)));
  }
  return out;
}

Status kill(const Context& ctx, const std::string& id, int sig, bool all) {
  HULL_ASSIGN(locked, load(ctx, id));
  const Record& r = locked.record;
  oci::State s = derived(r.state);
  HULL_TRY(transition(id, s.status, all ? Op::KillAll : Op::Kill));
  if (s.status == ContainerStatus::Stopped) return {};
  log::debug("container " + id + ": signal " + std::to_string(sig) +
             (all ? " to all its processes" : " to its init"));
  // The process may end while we ask: its monitor then tears the VM down and
  // the agent is gone or no longer knows it. That is runc's "not running".
  auto ended = [&](Error e) -> Status {
    if (all && !monitor_alive(r.state)) return {};
    if (!monitor_alive(r.state) || e.code == Errc::NotRunning || e.code == Errc::NotFound) {
      return fail(Errc::NotRunning, "container not running");
    }
    return fail(std::move(e));
  };
  auto conn = connect(ctx, r);
  if (!conn) return ended(std::move(conn.error()));
  if (auto st = (*conn)->signal(id, "", sig, all); !st) {
    return ended(std::move(st.error()));
  }
  return {};
}

Status remove(const Context& ctx, const std::string& id, bool force) {
  auto locked = load(ctx, id);
  if (!locked) {
    if (force && locked.error().code == Errc::NotFound) return {};
    return fail(std::move(locked.error()));
  }
  Record& r = locked->record;
  oci::State s = derived(r.state);
  HULL_TRY(transition(id, s.status, force ? Op::ForceDelete : Op::Delete));
  log::debug("container " + id + ": deleting (" + std::string(oci::status_name(s.status)) + ")");
  // A monitor still running is ended by killing the container's processes
  // (it then stops the VM and exits), or killed itself after
  // kMonitorExitWaitMs.
  std::function<void()> end_monitor;
  if (s.status != ContainerStatus::Stopped) {
    end_monitor = [&] {
      if (auto conn = connect(ctx, r)) (void)(*conn)->signal(id, "", SIGKILL, true);
      if (auto fd = open_pidfd(r.state.pid, r.state.pid_start_time)) {
        if (!pidfd_wait_exit(fd->get(), kMonitorExitWaitMs)) {
          (void)pidfd_signal(fd->get(), SIGKILL);
          (void)pidfd_wait_exit(fd->get(), kMonitorExitWaitMs);
        }
      }
    };
  }
  HULL_TRY(tear_down(ctx.root, r, end_monitor, trace_of(ctx)));
  s.status = ContainerStatus::Stopped;
  if (auto st = run_hooks(r, s, hooks::Kind::Poststop); !st) log::warn(st.error().what());
  HULL_TRY(oci::StateStore(ctx.root).remove(id));
  log::debug("container " + id + ": deleted");
  return {};
}

Result<int> wait_child_monitor(pid_t pid) {
  int ws = 0;
  while (::waitpid(pid, &ws, 0) < 0) {
    if (errno != EINTR) return fail_errno("waiting for the container's monitor");
  }
  if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
  return WEXITSTATUS(ws);
}

Status pause(const Context& ctx, const std::string& id) {
  HULL_ASSIGN(locked, load(ctx, id));
  Record& r = locked.record;
  oci::State s = derived(r.state);
  HULL_TRY(transition(id, s.status, Op::Pause));
  log::debug("container " + id + ": freezing its cgroup in the VM");
  HULL_ASSIGN(conn, connect(ctx, r));
  HULL_TRY(conn->pause(id));
  r.paused_from = s.status;
  r.state.status = ContainerStatus::Paused;
  return locked.save();
}

Status resume(const Context& ctx, const std::string& id) {
  HULL_ASSIGN(locked, load(ctx, id));
  Record& r = locked.record;
  oci::State s = derived(r.state);
  HULL_ASSIGN(
      to, transition(id, s.status, Op::Resume, r.paused_from.value_or(ContainerStatus::Running)));
  log::debug("container " + id + ": thawing its cgroup in the VM");
  HULL_ASSIGN(conn, connect(ctx, r));
  HULL_TRY(conn->resume(id));
  r.paused_from.reset();
  r.state.status = to;
  return locked.save();
}

Result<GuestProcessList> process_list(const Context& ctx, const std::string& id) {
  HULL_ASSIGN(r, load_unlocked(ctx, id));
  if (derived(r.state).status == ContainerStatus::Stopped) return GuestProcessList{};
  HULL_ASSIGN(conn, connect(ctx, r));
  sandbox::ProcessListExtras extras;
  HULL_ASSIGN(ps, conn->list_processes(id, sandbox::kAgentCallTimeout, &extras));
  return to_process_list(ps, extras);
}

Result<std::vector<GuestProcessInfo>> processes(const Context& ctx, const std::string& id) {
  HULL_ASSIGN(list, process_list(ctx, id));
  return std::move(list.processes);
}

Status update(const Context& ctx, const std::string& id, const std::string& resources_json) {
  HULL_ASSIGN(locked, load(ctx, id));
  const Record& r = locked.record;
  oci::State s = derived(r.state);
  if (s.status == ContainerStatus::Stopped) {
    return fail(Errc::NotRunning, "container not running");
  }
  Json res = Json::parse(resources_json, nullptr, false);
  if (!res.is_object()) return fail(Errc::Invalid, "linux.resources: not a JSON object");
  HULL_ASSIGN(spec, oci::spec_from_json(
                        Json{{"ociVersion", "1.0.0"}, {"linux", {{"resources", res}}}}, "update"));
  if (r.host_cgroup && spec.linux && spec.linux->resources) {
    HULL_ASSIGN(cgroup, hostcgroup::Cgroup::from_json(*r.host_cgroup));
    HULL_TRY(cgroup.update(*spec.linux->resources));
  }
  // Real-time limits and the cpuset live in the host cgroup only, as create
  // leaves them out of the guest's spec (runtime/share/share.cc, guest_spec).
  if (res.contains("cpu") && res["cpu"].is_object()) {
    for (const char* k : {"realtimePeriod", "realtimeRuntime", "cpus", "mems"}) res["cpu"].erase(k);
  }
  HULL_ASSIGN(conn, connect(ctx, r));
  return conn->update(id, res.dump());
}

Result<nlohmann::ordered_json> stats_event(const Context& ctx, const std::string& id) {
  HULL_ASSIGN(r, load_unlocked(ctx, id));
  if (derived(r.state).status == ContainerStatus::Stopped) {
    return fail(Errc::NotRunning, "container not running");
  }
  HULL_ASSIGN(conn, connect(ctx, r));
  HULL_ASSIGN(st, conn->stats(id));
  return stats_event_json(id, st);
}

Result<std::unique_ptr<OomEvents>> oom_events(const Context& ctx, const std::string& id) {
  HULL_ASSIGN(r, load_unlocked(ctx, id));
  if (derived(r.state).status == ContainerStatus::Stopped || r.vsock_socket.empty()) {
    return fail(Errc::NotRunning, "container not running");
  }
  HULL_ASSIGN(client,
              wrap(sandbox::AgentClient::connect(
                       r.vsock_socket, std::chrono::steady_clock::now() + kAgentConnectTimeout),
                   "container " + id + ": connecting to its VM for OOM events"));
  std::unique_ptr<OomEvents> ev(new OomEvents(std::move(client)));
  HULL_ASSIGN(reader, wrap(sandbox::GrpcContainerClient(ev->client_).oom_events(),
                           "container " + id + ": OOM events"));
  ev->reader_ = std::move(reader);
  return ev;
}

Result<std::optional<std::string>> OomEvents::next() {
  return reader_->next();
}

void OomEvents::cancel() {
  reader_->cancel();
}

}  // namespace hull::container
