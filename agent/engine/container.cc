#include "agent/engine/container.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <thread>
#include <vector>

#include "agent/engine/container_init_request.h"
#include "agent/engine/fs_util.h"
#include "agent/engine/pty.h"
#include "agent/engine/signal_grace.h"
#include "agent/engine/spawn.h"
#include "agent/engine/start_hooks.h"
#include "agent/engine/str.h"
#include "agent/engine/sync.h"
#include "common/cgroup/path.h"
#include "common/container_id.h"
#include "common/file.h"
#include "common/pidfd.h"
#include "common/text.h"

namespace hull::engine {
namespace {

std::string idmap_text(const std::vector<IdMap>& maps) {
  std::string out;
  for (const auto& m : maps) out += cat(m.container_id, " ", m.host_id, " ", m.size, "\n");
  return out;
}

// Everything a launch of the init holds until it has reported Ready. The
// destructor kills and reaps whatever is still held: on success the caller has
// moved pidfd out and the bootstrap is already reaped.
struct Launch {
  Spawned bootstrap;
  UniqueFd sync;
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd console;

  Launch() = default;
  Launch(Launch&&) = default;
  Launch& operator=(Launch&&) = default;
  ~Launch() {
    if (pidfd) {
      ::pidfd_send_signal(pidfd.get(), SIGKILL, nullptr, 0);
      reap_owned(pidfd.get());
    }
    if (bootstrap.pidfd) {
      ::pidfd_send_signal(bootstrap.pidfd.get(), SIGKILL, nullptr, 0);
      reap_owned(bootstrap.pidfd.get());
    }
  }
};

struct LaunchArgs {
  InitRequest req;
  bool terminal = false;  // the init sends the pty master (Console) before Ready
  Stdio stdio;
  std::vector<FdMapping> extra;           // exec: namespace fds
  Cgroup* cgroup = nullptr;               // joined by the bootstrap before anything else
  const ContainerPlan* userns = nullptr;  // create with a new user namespace: its mappings
  std::chrono::milliseconds timeout{0};
};

Result<Launch> launch(const LaunchArgs& a) {
  Launch l;
  std::array<UniqueFd, 3> nulls;
  std::array<int, 3> stdio{a.stdio.in, a.stdio.out, a.stdio.err};
  if (a.terminal) stdio = {-1, -1, -1};  // until the init puts its pty there
  for (size_t i = 0; i < 3; ++i) {
    if (stdio[i] >= 0) continue;
    nulls[i].reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!nulls[i]) return fail_errno("open /dev/null");
    stdio[i] = nulls[i].get();
  }
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) return fail_errno("socketpair");
  l.sync.reset(sp[0]);
  UniqueFd child_end(sp[1]);
  std::vector<FdMapping> fds{
      {stdio[0], 0}, {stdio[1], 1}, {stdio[2], 2}, {child_end.get(), kSyncFd}};
  fds.insert(fds.end(), a.extra.begin(), a.extra.end());
  HULL_ASSIGN(spawned, spawn_init(fds));
  l.bootstrap = std::move(spawned);
  child_end.reset();
  if (a.cgroup) HULL_TRY(a.cgroup->add_pid(l.bootstrap.pid));
  HULL_TRY(send_sync(l.sync.get(), SyncMsg::Config, encode_request(a.req)));
  if (a.userns) {
    HULL_TRY(expect_sync(l.sync.get(), SyncMsg::UsernsCreated, a.timeout));
    std::string proc = cat("/proc/", l.bootstrap.pid, "/");
    auto u = write_kernel_file(proc + "uid_map", idmap_text(a.userns->uid_mappings));
    if (!u) return fail(std::move(u.error()).wrap("linux.uidMappings"));
    auto g = write_kernel_file(proc + "gid_map", idmap_text(a.userns->gid_mappings));
    if (!g) return fail(std::move(g.error()).wrap("linux.gidMappings"));
    HULL_TRY(send_sync(l.sync.get(), SyncMsg::UsernsMapped));
  }
  HULL_ASSIGN(pid_text, expect_sync(l.sync.get(), SyncMsg::ChildPid, a.timeout));
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  if (ec != std::errc() || end != pid_text.data() + pid_text.size() || pid <= 0) {
    return fail(Errc::GuestProtocol, cat("sync: bad ChildPid ", quote(pid_text)));
  }
  // The child cannot exit before PidAck releases it, so this pid is still it.
  l.pidfd.reset(::pidfd_open(pid, 0));
  if (!l.pidfd) return fail_errno(cat("pidfd_open ", pid));
  l.pid = pid;
  HULL_TRY(send_sync(l.sync.get(), SyncMsg::PidAck));
  if (a.terminal) {
    HULL_ASSIGN(master, expect_sync_fd(l.sync.get(), SyncMsg::Console, a.timeout));
    l.console = std::move(master);
  }
  HULL_TRY(expect_sync(l.sync.get(), SyncMsg::Ready, a.timeout));
  reap_owned(l.bootstrap.pidfd.get());
  l.bootstrap.pidfd.reset();
  return l;
}

// /proc/<pid>/ns/<name> of the container init, for each namespace that differs
// from ours, user namespace first.
Result<std::vector<UniqueFd>> open_container_namespaces(pid_t pid, std::vector<JoinFd>* join) {
  static constexpr std::array kOrder{CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS,    CLONE_NEWNET,
                                     CLONE_NEWPID,  CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWTIME};
  std::vector<UniqueFd> fds;
  for (int flag : kOrder) {
    std::string name(namespace_proc_name(flag));
    UniqueFd fd(::open(cat("/proc/", pid, "/ns/", name).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) continue;  // a kernel without this namespace type
      return fail_errno(cat("open /proc/", pid, "/ns/", name));
    }
    struct stat theirs {
    }, ours{};
    if (::fstat(fd.get(), &theirs) < 0) return fail_errno("fstat namespace");
    if (::stat(cat("/proc/self/ns/", name).c_str(), &ours) == 0 && ours.st_ino == theirs.st_ino &&
        ours.st_dev == theirs.st_dev) {
      continue;
    }
    join->push_back({flag, kFirstJoinFd + static_cast<int>(fds.size())});
    fds.push_back(std::move(fd));
  }
  return fds;
}

constexpr std::array<std::pair<ContainerState, ContainerState>, 3> kTransitions{{
    {ContainerState::Created, ContainerState::Running},
    {ContainerState::Created, ContainerState::Stopped},
    {ContainerState::Running, ContainerState::Stopped},
}};

}  // namespace

int exit_status_from_wait(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

std::string_view state_name(ContainerState s) {
  switch (s) {
    case ContainerState::Created:
      return "created";
    case ContainerState::Running:
      return "running";
    case ContainerState::Stopped:
      return "stopped";
  }
  return "unknown";
}

// ---- Process -----------------------------------------------------------------

Process::~Process() {
  if (kill_on_drop_ && !detached_ && !exit_status() && pidfd_) {
    ::pidfd_send_signal(pidfd_.get(), SIGKILL, nullptr, 0);
  }
}

bool Process::on_exit(pid_t pid, int wait_status) {
  if (pid != pid_) return false;
  std::lock_guard lock(mu_);
  if (!status_) status_ = exit_status_from_wait(wait_status);
  return true;
}

std::optional<int> Process::exit_status() const {
  std::lock_guard lock(mu_);
  return status_;
}

Status Process::signal(int sig) {
  if (exit_status()) return fail(Errc::NotRunning, cat("process ", pid_, " has exited"));
  if (::pidfd_send_signal(pidfd_.get(), sig, nullptr, 0) < 0) {
    if (errno == ESRCH) return fail(Errc::NotRunning, cat("process ", pid_, " has exited"));
    return fail_errno(cat("signal ", sig, " to ", pid_));
  }
  return {};
}

UniqueFd Process::take_console() {
  return std::move(console_);
}

Status Process::resize(uint16_t rows, uint16_t cols) {
  if (!console_)
    return fail(Errc::InvalidState,
                "no terminal (process.terminal is false or the console was taken)");
  return resize_pty(console_.get(), rows, cols);
}

Result<int> Process::wait() {
  if (auto s = exit_status()) return *s;
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) < 0) {
    if (errno != EINTR) return fail_errno(cat("wait for ", pid_));
  }
  int status = info.si_code == CLD_EXITED ? W_EXITCODE(info.si_status, 0) : info.si_status & 0x7f;
  on_exit(pid_, status);
  return *exit_status();
}

// ---- Container -----------------------------------------------------------------

Result<std::unique_ptr<Container>> Container::create(const CreateOptions& o) {
  HULL_TRY(validate_container_id(o.id));
  HULL_ASSIGN(plan, plan_container(o.spec));
  if (!plan.has_namespace(CLONE_NEWNS)) {
    return fail(Errc::Invalid, "linux.namespaces: a container needs its own mount namespace");
  }
  // The Container object is made only once its init runs: every Container has
  // an init (pid(), exit_status() and destroy() rely on it), so a refusal
  // before that point is a plain error with nothing to destroy.
  std::optional<SeccompProgram> seccomp;
  if (o.spec.linux && o.spec.linux->seccomp) {
    HULL_ASSIGN(prog, compile_seccomp(*o.spec.linux->seccomp));
    seccomp = std::move(prog);
  }
  std::string rootfs = o.rootfs;
  if (rootfs.empty()) {
    if (!o.spec.root || o.spec.root->path.empty())
      return fail(Errc::Invalid, "root.path: is required");
    rootfs =
        o.spec.root->path[0] == '/' ? o.spec.root->path : cat(o.bundle, "/", o.spec.root->path);
  }
  char resolved[PATH_MAX];
  if (!::realpath(rootfs.c_str(), resolved)) return fail_errno(cat("root.path: ", rootfs));
  struct stat st {};
  if (::stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode)) {
    return fail(Errc::Invalid, cat("root.path: ", resolved, " is not a directory"));
  }

  std::optional<Cgroup> cgroup;
  if (o.cgroup_root) {
    HULL_ASSIGN(rel,
                cgroup::vm_path(o.spec.linux ? o.spec.linux->cgroups_path : std::nullopt, o.id));
    HULL_ASSIGN(cg, Cgroup::create(*o.cgroup_root, rel));
    cgroup = std::move(cg);
    auto applied = [&]() -> Status {
      const oci::Linux* l = o.spec.linux ? &*o.spec.linux : nullptr;
      if (l && l->resources) HULL_TRY(cgroup->apply(*l->resources));
      // Always: without rules the container gets runc's default devices only.
      HULL_ASSIGN(rules, device_rules(l && l->resources ? l->resources->devices : std::nullopt,
                                      l ? l->devices : std::nullopt));
      return cgroup->set_devices(rules);
    }();
    if (!applied) {
      (void)cgroup->remove(o.timeout);
      return fail(std::move(applied.error()));
    }
  }

  LaunchArgs a;
  a.req.mode = InitMode::Create;
  a.req.spec_json = oci::to_json(o.spec).dump(-1, ' ', false, oci::Json::error_handler_t::replace);
  a.req.rootfs = resolved;
  a.req.bundle = o.bundle.empty() ? "/" : o.bundle;
  a.req.id = o.id;
  a.req.state_bundle = o.state_bundle.empty() ? a.req.bundle : o.state_bundle;
  a.req.seccomp = seccomp;
  a.terminal = plan.process.terminal;
  a.stdio = o.stdio;
  a.cgroup = cgroup ? &*cgroup : nullptr;
  a.userns = plan.creates_userns() ? &plan : nullptr;
  a.timeout = o.timeout;
  auto l = launch(a);
  if (!l) {
    if (cgroup) (void)cgroup->remove(o.timeout);
    return fail(std::move(l.error()).wrap(cat("create container ", o.id)));
  }
  std::unique_ptr<Container> c(new Container());
  c->id_ = o.id;
  c->spec_ = o.spec;
  c->timeout_ = o.timeout;
  c->seccomp_ = std::move(seccomp);
  c->cgroup_ = std::move(cgroup);
  c->init_.reset(new Process(l->pid, std::move(l->pidfd), std::move(l->console), false));
  c->sync_ = std::move(l->sync);
  c->plan_ = std::move(plan);
  return c;
}

Container::~Container() {
  if (!destroyed_) (void)destroy();
}

ContainerState Container::state() const {
  std::lock_guard lock(state_mu_);
  return state_;
}

Status Container::move_to(ContainerState to) {
  std::lock_guard lock(state_mu_);
  for (const auto& [from, next] : kTransitions) {
    if (from == state_ && next == to) {
      state_ = to;
      return {};
    }
  }
  return fail(Errc::InvalidState,
              cat("container ", id_, ": from ", state_name(state_), " to ", state_name(to)));
}

Status Container::start() {
  std::lock_guard lock(mu_);
  if (destroyed_) return fail(Errc::InvalidState, cat("container ", id_, " was destroyed"));
  if (state() != ContainerState::Created || !sync_) {
    return fail(Errc::InvalidState,
                cat("container ", id_, ": from ", state_name(state()), " to running"));
  }
  // The init runs the startContainer hooks before it execs: their time too.
  std::chrono::milliseconds wait{-1};
  if (auto hooks_time = hooks::total_timeout(start_hooks(spec_, {}))) wait = timeout_ + *hooks_time;
  HULL_TRY(send_sync(sync_.get(), SyncMsg::Start));
  auto r = wait_sync_eof(sync_.get(), wait);
  sync_.reset();
  if (!r) return fail(std::move(r.error()).wrap(cat("start container ", id_)));
  started_at_ = std::chrono::steady_clock::now();
  (void)move_to(ContainerState::Running);  // a fast exit may already have moved it to stopped
  return {};
}

Result<std::unique_ptr<Process>> Container::exec(const oci::Process& process, Stdio stdio,
                                                 std::string_view sub_cgroup) {
  std::lock_guard lock(mu_);
  if (destroyed_ || state() == ContainerState::Stopped) {
    return fail(Errc::NotRunning, cat("container ", id_, " is not running"));
  }
  // exec --cgroup: runc joins <container's cgroup>/<sub>, which must exist.
  std::optional<Cgroup> sub;
  if (!sub_cgroup.empty()) {
    if (!cgroup_) {
      return fail(Errc::Unsupported, cat("exec --cgroup: container ", id_, " has no cgroup"));
    }
    HULL_ASSIGN(rel, cgroup::sub_cgroup_path(sub_cgroup));
    if (!rel.empty()) {
      sub.emplace(Cgroup::open(cgroup_->path(), rel));
      // As runc: the sub-cgroup must exist (a missing one is the error).
      struct stat st {};
      if (::stat(sub->path().c_str(), &st) != 0) {
        return fail_errno(cat("exec --cgroup ", sub_cgroup, ": cgroup ", sub->path()));
      }
      if (!S_ISDIR(st.st_mode)) {
        return fail(Errc::Invalid,
                    cat("exec --cgroup ", sub_cgroup, ": ", sub->path(), " is not a cgroup"));
      }
    }
  }
  HULL_ASSIGN(pp, plan_process(process, "process"));
  oci::Spec spec = spec_;
  spec.process = process;
  LaunchArgs a;
  a.req.mode = InitMode::Exec;
  a.req.spec_json = oci::to_json(spec).dump(-1, ' ', false, oci::Json::error_handler_t::replace);
  a.req.seccomp = seccomp_;
  HULL_ASSIGN(ns_fds, open_container_namespaces(init_->pid(), &a.req.join));
  // The namespaces must be the init's, not those of a recycled pid.
  if (::pidfd_send_signal(init_->pidfd_.get(), 0, nullptr, 0) < 0) {
    return fail(Errc::NotRunning, cat("container ", id_, " is not running"));
  }
  for (size_t i = 0; i < ns_fds.size(); ++i) a.extra.push_back({ns_fds[i].get(), a.req.join[i].fd});
  a.terminal = pp.terminal;
  a.stdio = stdio;
  a.cgroup = sub ? &*sub : cgroup_ ? &*cgroup_ : nullptr;
  a.timeout = timeout_;
  auto l = launch(a);
  if (!l) return fail(std::move(l.error()).wrap(cat("exec in container ", id_)));
  HULL_TRY(send_sync(l->sync.get(), SyncMsg::Start));
  if (auto r = wait_sync_eof(l->sync.get(), timeout_); !r) {
    return fail(std::move(r.error()).wrap(cat("exec in container ", id_)));
  }
  std::unique_ptr<Process> p(new Process(l->pid, std::move(l->pidfd), std::move(l->console), true));
  return p;
}

Status Container::signal_pid_namespace(int sig) {
  struct stat ns {};
  if (::stat(cat("/proc/", init_->pid(), "/ns/pid").c_str(), &ns) < 0)
    return fail_errno("stat the container's pid ns");
  DIR* d = ::opendir("/proc");
  if (!d) return fail_errno("open /proc");
  std::vector<pid_t> pids;
  while (dirent* e = ::readdir(d)) {
    pid_t p = 0;
    auto [end, ec] = std::from_chars(e->d_name, e->d_name + std::strlen(e->d_name), p);
    if (ec != std::errc() || *end != '\0') continue;
    struct stat st {};
    if (::stat(cat("/proc/", p, "/ns/pid").c_str(), &st) == 0 && st.st_ino == ns.st_ino &&
        st.st_dev == ns.st_dev) {
      pids.push_back(p);
    }
  }
  ::closedir(d);
  for (pid_t p : pids) ::kill(p, sig);  // ESRCH: it exited meanwhile
  return {};
}

void Container::wait_for_handler(int sig) {
  bool own_pid_ns = plan_.has_namespace(CLONE_NEWPID) && !plan_.find_namespace(CLONE_NEWPID)->path;
  if (!own_pid_ns || sig == SIGKILL || sig == SIGSTOP || state() != ContainerState::Running) return;
  std::string path = cat("/proc/", init_->pid(), "/status");
  while (std::chrono::steady_clock::now() - started_at_ < kSignalGrace && !exit_status()) {
    auto status = read_file(path, 1 << 16);
    if (!status || settled_for_signal(*status, sig)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status Container::signal(int sig, bool all) {
  std::lock_guard lock(mu_);
  if (destroyed_ || exit_status())
    return fail(Errc::NotRunning, cat("container ", id_, " is not running"));
  if (!all) {
    wait_for_handler(sig);
    return init_->signal(sig);
  }
  if (cgroup_) return cgroup_->kill_all(sig);
  if (plan_.has_namespace(CLONE_NEWPID) && !plan_.find_namespace(CLONE_NEWPID)->path) {
    if (sig == SIGKILL)
      return init_->signal(sig);  // the kernel kills the whole namespace with its init
    return signal_pid_namespace(sig);
  }
  return init_->signal(sig);
}

bool Container::on_exit(pid_t pid, int wait_status) {
  if (!init_ || !init_->on_exit(pid, wait_status)) return false;
  (void)move_to(ContainerState::Stopped);
  return true;
}

std::optional<int> Container::exit_status() const {
  return init_->exit_status();
}

Result<int> Container::wait() {
  HULL_ASSIGN(status, init_->wait());
  (void)move_to(ContainerState::Stopped);
  return status;
}

UniqueFd Container::take_console() {
  std::lock_guard lock(mu_);
  return init_->take_console();
}

Status Container::resize(uint16_t rows, uint16_t cols) {
  std::lock_guard lock(mu_);
  return init_->resize(rows, cols);
}

Status Container::pause() {
  std::lock_guard lock(mu_);
  if (!cgroup_) return fail(Errc::Unsupported, cat("container ", id_, " has no cgroup to freeze"));
  return cgroup_->freeze(timeout_);
}

Status Container::resume() {
  std::lock_guard lock(mu_);
  if (!cgroup_) return fail(Errc::Unsupported, cat("container ", id_, " has no cgroup to thaw"));
  return cgroup_->thaw(timeout_);
}

Status Container::update(const oci::Resources& r) {
  std::lock_guard lock(mu_);
  if (!cgroup_) return fail(Errc::Unsupported, cat("container ", id_, " has no cgroup"));
  std::optional<std::vector<DeviceRule>> rules;
  if (r.devices) {  // checked before anything is written
    HULL_ASSIGN(list, device_rules(r.devices, spec_.linux ? spec_.linux->devices : std::nullopt));
    HULL_TRY(reduce_device_rules(list));
    rules = std::move(list);
  }
  HULL_TRY(cgroup_->update(r));
  if (rules) HULL_TRY(cgroup_->set_devices(*rules));
  return {};
}

Result<CgroupStats> Container::stats() const {
  std::lock_guard lock(mu_);
  if (!cgroup_) return fail(Errc::Unsupported, cat("container ", id_, " has no cgroup"));
  return cgroup_->stats();
}

Status Container::destroy() {
  std::lock_guard lock(mu_);
  if (destroyed_) return {};
  // Kill first, then close the sync socket: an init still waiting for Start would
  // otherwise exit 1 on the EOF before the SIGKILL lands, and the status would depend
  // on the race (runc reports a destroyed created container as killed).
  if (!exit_status()) {
    if (cgroup_) {
      (void)cgroup_->thaw(timeout_);  // frozen tasks die only once thawed on old kernels
      HULL_TRY(cgroup_->kill_all(SIGKILL));
    }
    if (::pidfd_send_signal(init_->pidfd_.get(), SIGKILL, nullptr, 0) < 0 && errno != ESRCH) {
      return fail_errno(cat("kill container ", id_));
    }
  }
  sync_.reset();
  if (cgroup_) {
    HULL_TRY(cgroup_->wait_empty(timeout_));
    HULL_TRY(cgroup_->remove(timeout_));
  }
  destroyed_ = true;
  return {};
}

}  // namespace hull::engine
