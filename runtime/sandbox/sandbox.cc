#include "runtime/sandbox/sandbox.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "agent/proto/constants.h"
#include "common/file.h"
#include "common/log.h"
#include "common/unix_socket.h"
#include "runtime/jail/plans.h"
#include "runtime/sandbox/boot_progress.h"
#include "runtime/sandbox/boot_slots.h"
#include "runtime/vm/accel.h"
#include "runtime/vm/launcher.h"
#include "runtime/vm/log_tail.h"
#include "runtime/vm/tsc.h"

namespace hull::sandbox {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// One attempt to reach the agent; start() retries while the VM makes progress
// (boot_progress.h). A starved guest answers Health slowly: one attempt waits 5 s.
constexpr milliseconds kAgentAttempt{500};
// The agent listens before it prints its ready line on the console, so start() connects as
// soon as the line shows, not on a back-off: it waits for the line a slice at a time
// (watching the boot's progress between slices). In case the console does not show the
// line (a kernel parameter sent it elsewhere), it also tries a connect every kBlindConnect.
constexpr milliseconds kReadySlice{100};
constexpr milliseconds kBlindConnect{1000};
constexpr milliseconds kHealthTimeout{5000};
constexpr milliseconds kQmpTimeout{5000};
// hull-vsock and virtiofsd end on their own once QEMU is gone.
constexpr milliseconds kBackendExitGrace{1000};

// Milliseconds from `from` to `p`, or "-" for a point never reached (unset).
std::string ms_since(Clock::time_point from, Clock::time_point p) {
  if (p == Clock::time_point{}) return "-";
  return std::to_string(std::chrono::duration_cast<milliseconds>(p - from).count());
}

// The streams of the sandbox's log pump (log_ring.h), in this order.
enum LogStream : size_t { kConsoleLog, kQemuLog, kVsockLog, kVirtiofsdLog };

// "; console: <tail>" or "" when the console says nothing.
std::string console_note(LogPump& logs) {
  std::string t = vm::last_lines(logs.tail(kConsoleLog), vm::kErrorLogLines);
  return t.empty() ? "" : "; console: " + t;
}

}  // namespace

std::string describe(const StartTimings& t) {
  auto ms = [&t](Clock::time_point p) { return ms_since(t.begin, p); };
  return ms(t.end) + " ms (QEMU exec at " + ms(t.qemu_exec) + ", ready line " + ms(t.ready_line) +
         ", connected " + ms(t.agent_connected) + ", Health answered " + ms(t.agent_healthy) + ")";
}

std::string describe(const StopTimings& t) {
  auto ms = [&t](Clock::time_point p) { return ms_since(t.begin, p); };
  return ms(t.end) + " ms (DestroySandbox answered at " + ms(t.destroy_answered) + ", QEMU ended " +
         ms(t.qemu_ended) + ")";
}

Result<std::unique_ptr<Sandbox>> Sandbox::start(const SandboxOptions& opts) {
  std::unique_ptr<Sandbox> sb(new Sandbox());
  Sandbox& s = *sb;
  s.id_ = opts.id;
  s.opts_ = opts;
  s.timings_.begin = Clock::now();
  auto step = [&s](std::string_view name) { return "sandbox " + s.id_ + ": " + std::string(name); };
  const config::Config& cfg = opts.config;

  // accelerator
  HULL_ASSIGN(accel, wrap(vm::choose_accel(cfg.hypervisor.accel, vm::probe_host_accel()),
                          step("accelerator")));
  s.accel_ = accel.accel;
  const bool tcg = s.accel_ == config::Accel::Tcg;
  if (tcg) log::warn(step("accelerator") + ": " + accel.reason + "; " + vm::kTcgNotABoundary);
  uint64_t tsc_khz = opts.tsc_khz;
  if (tcg && tsc_khz == 0) {
    auto rate = vm::host_tsc_rate();
    if (rate) {
      tsc_khz = rate->khz;
    } else {
      log::warn(step("tsc") + ": " + rate.error().what() +
                "; booting without tsc_early_khz (some TCG boots may hang)");
    }
  }

  // jail user (runtime/jail): QEMU and hull-vsock run as it
  HULL_ASSIGN(ident,
              wrap(jail::resolve_identity(cfg.jail.user, cfg.jail.group), step("jail user")));

  // layout
  HULL_ASSIGN(paths, wrap(sandbox_paths(opts.root, opts.id), step("layout")));
  s.paths_ = paths;
  if (!vm::virtiofsd_path_ok(paths.shared_dir)) {
    return fail(Errc::Invalid, step("layout") + ": virtiofsd cannot export a path with a comma: " +
                                   paths.shared_dir);
  }

  // the runtime root first: the boot slots live in it, so a root that another user may
  // write (a planted boot-slots symlink) is refused before anything is made or removed there
  HULL_ASSIGN(root_fd, wrap(open_private_dir(opts.root), step("runtime root")));

  // boot slot: at most boot_slot_count() VMs boot at once per runtime root (boot_slots.h);
  // held until the agent answers, released when start() returns
  HULL_ASSIGN(slot, wrap(BootSlot::acquire(opts.root, boot_slot_count(),
                                           std::chrono::seconds(cfg.vm.start_timeout_s)),
                         step("boot slot")));
  s.timings_.boot_slot = Clock::now();

  // sandbox directory
  HULL_ASSIGN(sandboxes_fd, wrap(open_private_dir_at(root_fd.get(), opts.root, "sandboxes"),
                                 step("sandbox directory")));
  std::string dir_name = paths.dir.substr(paths.dir.rfind('/') + 1);
  HULL_ASSIGN(dir, wrap(DirGuard::create_at(sandboxes_fd.get(), dir_name, paths.dir),
                        step("sandbox directory")));
  s.dir_ = std::move(dir);
  struct stat st {};
  if (::stat(paths.dir.c_str(), &st) != 0) return fail_errno(step("sandbox directory") + ": stat");
  s.cid_ = guest_cid_for(st.st_ino, opts.id);
  if (paths.short_sockets()) {
    HULL_TRY(wrap(make_private_dir_base(std::string(kShortSocketBase)), step("socket directory")));
    HULL_ASSIGN(sockets, wrap(DirGuard::create(paths.socket_dir), step("socket directory")));
    s.socket_dir_ = std::move(sockets);
  }
  // 0711: the guest sees this as the root of its shared fs, and a container
  // with a user namespace resolves its rootfs below it as a mapped (non-root)
  // uid. On the host the sandbox directory (0700) keeps others out.
  if (::mkdir(paths.shared_dir.c_str(), 0711) != 0) {
    return fail_errno(step("sandbox directory") + ": mkdir " + paths.shared_dir);
  }

  // hull-vsock's directory: root and the jail group may enter it (0710).
  if (::mkdir(paths.vsock_dir.c_str(), 0710) != 0 ||
      ::chown(paths.vsock_dir.c_str(), 0, ident.gid) != 0 ||
      ::chmod(paths.vsock_dir.c_str(), 0710) != 0) {
    return fail_errno(step("socket directory") + ": making " + paths.vsock_dir);
  }

  // The jail's mount point: each jailed process mounts its own root on it,
  // in its own mount namespace; on the host it stays an empty directory.
  if (::mkdir(paths.jail_dir.c_str(), 0755) != 0) {
    return fail_errno(step("sandbox directory") + ": mkdir " + paths.jail_dir);
  }

  // shared mount
  HULL_ASSIGN(mount, wrap(make_shared_mount(paths.shared_dir), step("shared mount")));
  s.shared_mount_ = std::move(mount);

  // bounded logs: the console and each process's output go through pipes to rings
  HULL_ASSIGN(logs,
              wrap(LogPump::start(
                       {{.path = paths.console_log,
                         .cap_bytes = uint64_t{cfg.vm.console_log_mib} << 20,
                         .marker = std::string(kAgentReadyLine)},
                        {.path = paths.qemu_log, .cap_bytes = kHelperLogBytes, .marker = {}},
                        {.path = paths.vsock_log, .cap_bytes = kHelperLogBytes, .marker = {}},
                        {.path = paths.virtiofsd_log, .cap_bytes = kHelperLogBytes, .marker = {}}}),
                   step("logs")));
  s.logs_ = std::move(logs);

  // hull-vsock
  vm::VsockLaunch vl;
  vl.binary = opts.hull_vsock_path;
  vl.vhost_user_socket = paths.vhost_vsock_socket;
  vl.uds_path = paths.vsock_socket;
  vl.guest_cid = s.cid_;
  vl.log_path = paths.vsock_log;
  UniqueFd vsock_out = s.logs_->take_writer(kVsockLog);
  vl.log_fd = vsock_out.get();
  HULL_ASSIGN(vplan, wrap(jail::vsock_jail({.root = paths.jail_dir,
                                            .id = ident,
                                            .binary = opts.hull_vsock_path,
                                            .socket_dir = paths.vsock_dir}),
                          step("hull-vsock jail")));
  HULL_ASSIGN(vjail, wrap(jail::Jail::prepare(std::move(vplan.spec)), step("hull-vsock jail")));
  vl.binary = vplan.exec_path;
  vl.jail = &vjail;
  HULL_ASSIGN(vsock, wrap(vm::start_hull_vsock(vl), step("hull-vsock")));
  s.vsock_ = std::move(vsock);

  // virtiofsd
  vm::VirtiofsdLaunch fl;
  fl.spec.path = config::virtiofsd_path(cfg);
  fl.spec.source_dir = paths.shared_dir;
  fl.spec.cache = cfg.virtiofsd.cache;
  fl.socket_path = paths.virtiofsd_socket;
  fl.log_path = paths.virtiofsd_log;
  UniqueFd virtiofsd_out = s.logs_->take_writer(kVirtiofsdLog);
  fl.log_fd = virtiofsd_out.get();
  HULL_ASSIGN(virtiofsd, wrap(vm::start_virtiofsd(fl), step("virtiofsd")));
  s.virtiofsd_ = std::move(virtiofsd);

  // qemu
  jail::QemuJailInput qj{.root = paths.jail_dir,
                         .id = ident,
                         .qemu_path = cfg.hypervisor.path,
                         .kernel = cfg.vm.kernel,
                         .initrd = cfg.vm.initrd,
                         .memory_mib = cfg.vm.memory_mib,
                         .kvm = !tcg,
                         .kvm_group = std::nullopt,
                         .own_network = opts.nics.empty()};
  if (!tcg) {
    struct stat kvm {};
    if (::stat("/dev/kvm", &kvm) == 0 && (kvm.st_mode & 0006) != 0006) qj.kvm_group = kvm.st_gid;
  }
  HULL_ASSIGN(qplan, wrap(jail::qemu_jail(qj), step("qemu jail")));
  HULL_ASSIGN(qjail, wrap(jail::Jail::prepare(std::move(qplan.spec)), step("qemu jail")));
  // What QEMU would open by path it gets as descriptors: its jail has none of them.
  // The console is the write end of the log pump's pipe.
  UniqueFd console = s.logs_->take_writer(kConsoleLog);
  UniqueFd qemu_out = s.logs_->take_writer(kQemuLog);
  HULL_ASSIGN(qmp_listener, wrap(listen_unix(paths.qmp_socket, 1), step("qemu")));
  HULL_ASSIGN(vsock_conn, wrap(connect_unix(paths.vhost_vsock_socket), step("qemu")));
  HULL_ASSIGN(fs_conn, wrap(connect_unix(paths.virtiofsd_socket), step("qemu")));
  vm::QemuSpec q;
  q.qemu_path = qplan.exec_path;
  q.accel = s.accel_;
  q.tcg_tb_size_mib = opts.tcg_tb_size_mib;
  q.seccomp_sandbox = cfg.hypervisor.sandbox;
  q.vcpus = cfg.vm.vcpus;
  q.memory_mib = cfg.vm.memory_mib;
  q.kernel = qplan.kernel;
  q.initrd = qplan.initrd;
  q.kernel_cmdline = vm::kernel_cmdline({.vcpus = cfg.vm.vcpus,
                                         .tcg = tcg,
                                         .tsc_khz = static_cast<uint32_t>(tsc_khz),
                                         .extra = cfg.vm.kernel_params});
  q.qmp_socket = paths.qmp_socket;
  q.vhost_vsock_socket = paths.vhost_vsock_socket;
  q.virtiofsd_socket = paths.virtiofsd_socket;
  q.fs_tag = agent::kSharedFsTag;
  q.console_log = paths.console_log;
  q.name = "hull-" + opts.id.substr(0, 32);
  // QEMU sees its descriptors as 3, 4, ...: the NICs' in the order of
  // opts.nics (as before the jail), then the console and the sockets.
  std::vector<std::pair<int, int>> inherit;
  int next_fd = 3;
  for (const auto& n : opts.nics) {
    vm::QemuNic qn;
    qn.id = n.id;
    qn.mac = n.mac;
    qn.mtu = n.mtu;
    qn.tap_fd = next_fd++;
    inherit.emplace_back(n.tap_fd, qn.tap_fd);
    if (n.vhost_fd >= 0) {
      qn.vhost_fd = next_fd++;
      inherit.emplace_back(n.vhost_fd, qn.vhost_fd);
    }
    q.nics.push_back(std::move(qn));
  }
  for (auto [fd, slot] :
       {std::pair{console.get(), &q.console_fd}, std::pair{qmp_listener.get(), &q.qmp_fd},
        std::pair{vsock_conn.get(), &q.vhost_vsock_fd},
        std::pair{fs_conn.get(), &q.virtiofsd_fd}}) {
    *slot = next_fd++;
    inherit.emplace_back(fd, *slot);
  }
  HULL_ASSIGN(
      qemu, wrap(vm::start_qemu(q, paths.qemu_log, inherit, &qjail, qemu_out.get()), step("qemu")));
  s.qemu_ = std::move(qemu);
  // Only the processes hold the write ends now: a pipe ends when its writer does.
  for (UniqueFd* w : {&console, &qemu_out, &vsock_out, &virtiofsd_out}) w->reset();
  s.timings_.qemu_exec = Clock::now();

  // agent: wait while the VM makes progress (boot_progress.h), up to the cap
  BootWatch watch({.stall = opts.agent_timeout,
                   .cap = std::max<milliseconds>(opts.agent_timeout,
                                                 std::chrono::seconds(cfg.vm.start_timeout_s))},
                  s.timings_.qemu_exec);
  Error last{Errc::Timeout, 0, "no answer"};
  auto next_blind = s.timings_.qemu_exec + kBlindConnect;
  while (!s.agent_) {
    std::string dead = s.first_exit();
    if (!dead.empty()) {
      return fail(Errc::NotRunning, step("agent") + ": " + dead + console_note(*s.logs_));
    }
    const pid_t vm_pids[] = {s.qemu_.pid(), s.virtiofsd_.pid(), s.vsock_.pid()};
    const ConsoleProgress console{.marker = s.logs_->bytes(kConsoleLog),
                                  .agent_ready = s.logs_->marker_seen(kConsoleLog)};
    if (auto v = watch.observe(sample_boot(vm_pids, console, watch.agent_ready_seen()));
        v != BootVerdict::Wait) {
      std::string threads;
      if (v == BootVerdict::Stalled) {
        threads = "; threads: qemu [" + describe_threads(s.qemu_.pid()) + "], virtiofsd [" +
                  describe_threads(s.virtiofsd_.pid()) + "], hull-vsock [" +
                  describe_threads(s.vsock_.pid()) + "]";
      }
      return fail(Errc::Timeout, step("agent") + ": no answer: " + watch.describe(v) + " (last: " +
                                     last.what() + ")" + threads + console_note(*s.logs_));
    }
    if (!s.logs_->wait_marker(kConsoleLog, kReadySlice)) {
      if (Clock::now() < next_blind) continue;
      next_blind = Clock::now() + kBlindConnect;
    } else if (s.timings_.ready_line == Clock::time_point{}) {
      s.timings_.ready_line = Clock::now();
    }
    auto client = AgentClient::connect(paths.vsock_socket, Clock::now() + kAgentAttempt);
    if (!client) {
      last = std::move(client.error());
      continue;
    }
    s.timings_.agent_connected = Clock::now();
    if (auto h = client->health(kHealthTimeout); !h) {
      last = std::move(h.error());
      continue;
    }
    s.timings_.agent_healthy = Clock::now();
    s.agent_.emplace(std::move(*client));
  }

  // qmp
  HULL_ASSIGN(qmp, wrap(vm::QmpClient::connect(paths.qmp_socket, kQmpTimeout), step("qmp")));
  s.qmp_.emplace(std::move(qmp));

  s.timings_.end = Clock::now();
  return sb;
}

std::string Sandbox::first_exit() {
  auto describe = [this] {
    std::string dead = vm::describe_exit(qemu_, paths_.qemu_log);
    if (dead.empty()) dead = vm::describe_exit(vsock_, paths_.vsock_log);
    if (dead.empty()) dead = vm::describe_exit(virtiofsd_, paths_.virtiofsd_log);
    return dead;
  };
  std::string dead = describe();
  // A process that ended wrote its last words before its pipe closed: into the log first.
  if (!dead.empty() && logs_) {
    logs_->drain();
    dead = describe();
  }
  return dead;
}

Status Sandbox::check_processes() {
  std::string dead = first_exit();
  if (dead.empty()) return {};
  return fail(Errc::NotRunning, "sandbox " + id_ + ": " + dead);
}

Sandbox::~Sandbox() {
  if (auto st = stop(); !st) log::warn(st.error().what());
}

void Sandbox::destroy_guest() {
  if (guest_destroyed_) return;
  guest_destroyed_ = true;
  stop_timings_.begin = Clock::now();
  // The agent kills the containers and sees that nothing written stays in
  // the guest's page cache (it syncs if anything does) before it answers
  // DestroySandbox; after that answer nothing in the guest is worth its
  // power-off (a second or more under TCG), so stop() tells QEMU to quit at
  // once. Not when a backend is gone: the guest would block on the dead
  // device (a sync on virtio-fs without virtiofsd never returns).
  const bool backends_up = !vsock_.poll_exit() && !virtiofsd_.poll_exit();
  if (agent_hung_up_ && !agent_ && qemu_.valid() && !qemu_.poll_exit() && backends_up) {
    if (auto c = AgentClient::connect(paths_.vsock_socket, Clock::now() + kDestroySandboxTimeout)) {
      agent_.emplace(std::move(*c));
    }
  }
  if (qemu_.valid() && !qemu_.poll_exit() && agent_ && backends_up) {
    if (agent_->destroy_sandbox(kDestroySandboxTimeout)) {
      stop_timings_.destroy_answered = Clock::now();
    }
  }
}

void Sandbox::guest_destroyed_elsewhere() {
  if (guest_destroyed_) return;
  guest_destroyed_ = true;
  stop_timings_.begin = stop_timings_.destroy_answered = Clock::now();
}

void Sandbox::hang_up_agent() {
  agent_.reset();
  agent_hung_up_ = true;
}

Status Sandbox::stop() {
  if (stopped_) return {};
  stopped_ = true;
  const milliseconds grace = opts_.stop_grace;

  // 1. destroy_guest(), unless the caller did.
  destroy_guest();
  agent_.reset();
  // 2. QMP quit.
  if (qemu_.valid() && !qemu_.poll_exit() && qmp_) {
    if (qmp_->quit()) (void)qemu_.wait_for(grace);
  }
  qmp_.reset();
  // 3. SIGKILL whatever is left, QEMU first: the backends then see their
  //    front end go away and end on their own.
  qemu_.kill_and_reap();
  stop_timings_.qemu_ended = Clock::now();
  if (vsock_.valid()) (void)vsock_.wait_for(kBackendExitGrace);
  vsock_.kill_and_reap();
  if (virtiofsd_.valid()) (void)virtiofsd_.wait_for(kBackendExitGrace);
  virtiofsd_.kill_and_reap();  // PID 1 of its namespace: takes its worker along
  if (logs_) logs_->stop();    // every writer is gone: the last output is in the files

  Status result;
  if (auto st = shared_mount_.unmount(); !st) {
    result = fail(std::move(st.error()).wrap("sandbox " + id_ + ": stop"));
  }
  if (auto st = socket_dir_.remove(); !st && result) {
    result = fail(std::move(st.error()).wrap("sandbox " + id_ + ": stop"));
  }
  if (auto st = dir_.remove(); !st && result) {
    result = fail(std::move(st.error()).wrap("sandbox " + id_ + ": stop"));
  }
  stop_timings_.end = Clock::now();
  return result;
}

}  // namespace hull::sandbox
