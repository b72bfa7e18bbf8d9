#include "runtime/monitor/monitor.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <string_view>

#include "agent/proto/constants.h"
#include "common/file.h"
#include "common/log.h"
#include "common/oci/spec.h"
#include "common/spawn.h"
#include "common/unix_socket.h"
#include "runtime/config/config.h"
#include "runtime/container/container.h"
#include "runtime/container/network.h"
#include "runtime/container/paths.h"
#include "runtime/container/proc.h"
#include "runtime/container/signals.h"
#include "runtime/container/sizing.h"
#include "runtime/container/sync.h"
#include "runtime/dns/dns_relay_host.h"
#include "runtime/jail/jail.h"
#include "runtime/monitor/relay_process.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/share/share.h"
#include "runtime/vsock/hybrid_client.h"

extern char** environ;

namespace hull::container {
namespace {

using std::chrono::milliseconds;

// `hull create` runs the create-time hooks between ready and commit; each
// hook has its own timeout, this only bounds a create that hangs for good.
constexpr milliseconds kCommitTimeout{30 * 60 * 1000};
constexpr milliseconds kExecAgentTimeout{10000};

// Signals the monitor forwards (all but the ones that cannot be caught or
// that report a fault of the monitor itself).
sigset_t forwarded_signals() {
  sigset_t s;
  sigfillset(&s);
  for (int sig : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS}) {
    sigdelset(&s, sig);
  }
  return s;
}

// Hands the pty master to the --console-socket listener (SCM_RIGHTS; the
// message is the pty's name, as runc sends it).
Status send_console(const std::string& socket_path, int master, const std::string& name) {
  HULL_ASSIGN(s, wrap(connect_unix(socket_path), "--console-socket"));
  char cbuf[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{const_cast<char*>(name.data()), name.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &master, sizeof(int));  // an int into the control buffer
  if (::sendmsg(s.get(), &msg, MSG_NOSIGNAL) < 0) {
    return fail_errno("sending the terminal to --console-socket " + socket_path);
  }
  return {};
}

struct Terminal {
  UniqueFd slave;  // the monitor's side: raw, its controlling terminal
};

// A host pty pair: the master goes to the caller, the monitor keeps the slave
// in raw mode (the guest's pty does the line discipline) as its controlling
// terminal, so a resize of the master reaches it as SIGWINCH.
Result<Terminal> open_terminal(const std::string& console_socket,
                               const std::optional<oci::ConsoleSize>& size) {
  int m = -1, s = -1;
  char name[128] = {};
  if (::openpty(&m, &s, name, nullptr, nullptr) != 0) return fail_errno("openpty");
  UniqueFd master(m), slave(s);
  (void)::fcntl(master.get(), F_SETFD, FD_CLOEXEC);
  (void)::fcntl(slave.get(), F_SETFD, FD_CLOEXEC);
  termios t{};
  if (::tcgetattr(slave.get(), &t) == 0) {
    ::cfmakeraw(&t);
    (void)::tcsetattr(slave.get(), TCSANOW, &t);
  }
  if (size && size->height > 0 && size->width > 0) {
    winsize ws{static_cast<unsigned short>(size->height), static_cast<unsigned short>(size->width),
               0, 0};
    (void)::ioctl(master.get(), TIOCSWINSZ, &ws);
  }
  (void)::ioctl(slave.get(), TIOCSCTTY, 0);
  HULL_TRY(send_console(console_socket, master.get(), name));
  // The caller's stdio is not the container's any more: let it go, as runc's
  // init does. A caller that reads our stdout to EOF (go-runc under
  // containerd's shim waits for it before `create` counts as done) would
  // otherwise wait for the whole life of the container.
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return fail_errno("opening /dev/null");
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup2(null.get(), fd) < 0) return fail_errno("redirecting stdio to /dev/null");
  }
  return Terminal{std::move(slave)};
}

void send_error(int sync_fd, const Error& e) {
  SyncMessage m;
  m.type = SyncType::Error;
  m.error = e;
  (void)send_sync(sync_fd, m);
}

// Waits for `commit`; anything else means create gave up.
bool wait_commit(int sync_fd) {
  auto m = recv_sync(sync_fd, kCommitTimeout);
  return m && m->type == SyncType::Commit;
}

nlohmann::json proc_entry(const char* name, pid_t pid) {
  auto st = read_proc_stat(pid, kProcStatStartTime);
  return {{"name", name}, {"pid", pid}, {"start", st ? st->start_time : 0}};
}

// Whether the resolv.conf bound into the container names docker's embedded
// DNS server (user-defined networks).
bool embedded_dns(const oci::Spec& spec) {
  if (!spec.mounts) return false;
  for (const auto& m : *spec.mounts) {
    if (m.destination != "/etc/resolv.conf" || !m.source) continue;
    auto text = read_file(*m.source, 64 * 1024);
    return text && dns::uses_embedded_dns(*text);
  }
  return false;
}

// What the relay needs besides its descriptors, made before `ready` so that a
// failure is create's or exec's error: its own stream to the agent and the
// identity it runs as.
struct RelayPrep {
  UniqueFd agent;
  jail::Identity id;
};

Result<RelayPrep> prepare_relay(const std::string& vsock_socket, const config::Config& cfg) {
  HULL_ASSIGN(id, jail::resolve_identity(cfg.jail.user, cfg.jail.group));
  HULL_ASSIGN(agent,
              wrap(vsock::connect_hybrid(vsock_socket, agent::kAgentVsockPort,
                                         std::chrono::steady_clock::now() + kExecAgentTimeout),
                   "connecting the relay to the agent"));
  return RelayPrep{std::move(agent), std::move(id)};
}

int monitor_init(const MonitorArgs& a, int sync_fd, int sig_fd) {
  auto failed = [&](Error e) {
    send_error(sync_fd, e);
    return 1;
  };
  auto spec = oci::load_spec_file(a.bundle + "/config.json");
  if (!spec) return failed(std::move(spec.error()));
  auto cfg = config::load();
  if (!cfg) return failed(std::move(cfg.error()));
  resolve_guest_image(*cfg);
  auto size = vm_size(*spec, cfg->vm);
  if (!size) return failed(std::move(size.error()));
  auto vsock = find_hull_vsock();
  if (!vsock) return failed(std::move(vsock.error()));

  // The container's network namespace first (before any thread exists):
  // the create-time hooks see this process as the container's pid, and
  // docker's setkey hook configures the namespace it is in.
  const NetworkChoice net_choice = network_choice(*spec);
  if (auto st = enter_network(net_choice); !st) return failed(std::move(st.error()));
  SyncMessage in_ns;
  in_ns.type = SyncType::Namespaces;
  if (!send_sync(sync_fd, in_ns)) return 1;
  auto boot = recv_sync(sync_fd, kCommitTimeout);
  if (!boot || boot->type != SyncType::Boot) return 1;  // a hook failed, or create died
  // Hooks done: the namespace holds what the caller configured.
  auto net = wire_network(net_choice);
  if (!net) return failed(std::move(net.error()));

  sandbox::SandboxOptions so;
  so.id = a.id;
  so.root = a.root;
  so.config = *cfg;
  so.config.vm.vcpus = size->vcpus;
  so.config.vm.memory_mib = size->memory_mib;
  so.hull_vsock_path = *vsock;
  so.nics = net->sandbox_nics();
  log::debug("container " + a.id + ": booting its VM (" + std::to_string(size->vcpus) + " vCPUs, " +
             std::to_string(size->memory_mib) + " MiB, " + std::to_string(so.nics.size()) +
             " NICs)");
  auto sb = sandbox::Sandbox::start(so);
  if (!sb) return failed(std::move(sb.error()));
  std::unique_ptr<sandbox::Sandbox> sandbox = std::move(*sb);
  log::debug("container " + a.id + ": VM up, agent answering after " +
             sandbox::describe(sandbox->timings()));
  if (auto st = configure_guest_network(sandbox->agent(), *net); !st) {
    return failed(std::move(st.error()));
  }
  // docker's embedded DNS (user-defined networks): 127.0.0.11 answers in
  // this namespace only; the agent relays the guest's queries here.
  std::unique_ptr<dns::HostRelay> dns_relay;
  if (net_choice.mode != NetMode::None && embedded_dns(*spec)) {
    auto relay = dns::start_dns_relay(sandbox->agent().stub(), sandbox->paths().vsock_socket);
    if (!relay) return failed(std::move(relay.error()).wrap("docker's embedded DNS"));
    dns_relay = std::move(*relay);
  }

  auto shared = share_container(sandbox->paths().shared_dir, a.id, *spec, a.bundle);
  if (!shared) return failed(std::move(shared.error()));

  bool terminal = spec->process && spec->process->terminal.value_or(false);
  Terminal tty;
  if (terminal) {
    if (a.console_socket.empty()) {
      return failed(Error{Errc::Invalid, 0,
                          "config.json: process.terminal is true but no --console-socket was "
                          "given; pass one, or set terminal to false"});
    }
    auto t = open_terminal(a.console_socket, spec->process->console_size);
    if (!t) return failed(std::move(t.error()));
    tty = std::move(*t);
  }

  sandbox::GrpcContainerClient guest(sandbox->agent());
  sandbox::StdioMode mode{terminal, true};
  log::debug("container " + a.id + ": creating the container in the VM");
  if (auto st = guest.create(a.id, shared->guest_spec_json, mode, a.bundle); !st) {
    return failed(std::move(st.error()).wrap("creating the container in the VM"));
  }

  auto relay_prep = prepare_relay(sandbox->paths().vsock_socket, *cfg);
  if (!relay_prep) return failed(std::move(relay_prep.error()));

  SyncMessage ready;
  ready.type = SyncType::Ready;
  ready.body["sandbox_dir"] = sandbox->paths().dir;
  ready.body["vsock_socket"] = sandbox->paths().vsock_socket;
  ready.body["procs"] = {proc_entry("qemu", sandbox->qemu_pid()),
                         proc_entry("virtiofsd", sandbox->virtiofsd_pid()),
                         proc_entry("hull-vsock", sandbox->vsock_pid())};
  // For `delete` after a monitor that died: what to unwire, and where.
  nlohmann::json links = nlohmann::json::array();
  for (const auto& n : net->plan.nics) links.push_back(n.link);
  ready.body["network"] = {{"netns", net_choice.mode == NetMode::Path ? net_choice.path : ""},
                           {"links", links}};
  if (!send_sync(sync_fd, ready) || !wait_commit(sync_fd)) {
    (void)guest.remove(a.id, 0);
    return 1;  // destructors: unshare, stop the VM
  }
  ::close(sync_fd);
  // From here only the relay talks to the agent; the teardown dials again.
  sandbox->hang_up_agent();

  bool guest_destroyed = false;  // by the relay, on its connection
  auto status = run_relay_process({.args = {.id = a.id,
                                            .exec_id = "",
                                            .terminal = terminal,
                                            .destroy_sandbox = true,
                                            .debug = a.debug,
                                            .log_format = a.log_format},
                                   .binary = "",
                                   .jail_root = sandbox->paths().jail_dir,
                                   .id = std::move(relay_prep->id),
                                   .agent = std::move(relay_prep->agent),
                                   .tty = tty.slave.get(),
                                   .signal_fd = sig_fd,
                                   .guest_destroyed = &guest_destroyed});
  if (!status) {
    log::warn("container " + a.id + ": " + status.error().what() + "; reporting it as killed");
    status = ExitStatus{128 + SIGKILL, true, SIGKILL};
  }
  log::debug("container " + a.id + ": its process " + status->describe() + "; stopping the VM");
  lift_host_cpu_quota(a.root, a.id);
  if (status && guest_destroyed) sandbox->guest_destroyed_elsewhere();
  sandbox->destroy_guest();  // nothing in the guest writes into what unshare unmounts
  if (auto st = shared->unshare(); !st) log::warn(st.error().what());
  dns_relay.reset();
  if (auto st = sandbox->stop(); !st) log::warn(st.error().what());
  log::debug("container " + a.id + ": VM stopped after " +
             sandbox::describe(sandbox->stop_timings()));
  if (net->wiring) {
    if (auto st = net->wiring->remove(); !st) log::warn(st.error().what());
  }
  exit_like(*status);
}

int monitor_exec(const MonitorArgs& a, int sync_fd, int sig_fd) {
  auto failed = [&](Error e) {
    send_error(sync_fd, e);
    return 1;
  };
  auto process_json = read_file(a.process_file, 4 << 20);
  if (!process_json) return failed(std::move(process_json.error()));
  auto paths = sandbox::sandbox_paths(a.root, a.id);
  if (!paths) return failed(std::move(paths.error()));
  auto cfg = config::load();
  if (!cfg) return failed(std::move(cfg.error()));
  auto relay_prep = prepare_relay(paths->vsock_socket, *cfg);
  if (!relay_prep) return failed(std::move(relay_prep.error()));
  auto client = sandbox::AgentClient::connect(paths->vsock_socket,
                                              std::chrono::steady_clock::now() + kExecAgentTimeout);
  if (!client) return failed(std::move(client.error()).wrap("connecting to the container's VM"));
  nlohmann::json proc = nlohmann::json::parse(*process_json, nullptr, false);
  bool terminal = proc.is_object() && proc.value("terminal", false);
  Terminal tty;
  if (terminal) {
    if (a.console_socket.empty()) {
      return failed(Error{Errc::Invalid, 0,
                          "the process has terminal: true but no --console-socket was given"});
    }
    std::optional<oci::ConsoleSize> size;
    auto t = open_terminal(a.console_socket, size);
    if (!t) return failed(std::move(t.error()));
    tty = std::move(*t);
  }
  sandbox::GrpcContainerClient guest(*client);
  log::debug("container " + a.id + ": exec " + a.exec_id + ": starting the process in the VM");
  if (auto st = guest.exec(a.id, a.exec_id, *process_json, sandbox::StdioMode{terminal, true},
                           sandbox::kContainerCallTimeout, a.sub_cgroup);
      !st) {
    return failed(std::move(st.error()));
  }
  SyncMessage ready;
  ready.type = SyncType::Ready;
  if (!send_sync(sync_fd, ready) || !wait_commit(sync_fd)) {
    (void)guest.signal(a.id, a.exec_id, SIGKILL, false);
    return 1;
  }
  ::close(sync_fd);
  // From here only the relay talks to the agent: this connection goes.
  { sandbox::AgentClient gone = std::move(*client); }
  auto status = run_relay_process({.args = {.id = a.id,
                                            .exec_id = a.exec_id,
                                            .terminal = terminal,
                                            .destroy_sandbox = false,  // the VM is the container's
                                            .debug = a.debug,
                                            .log_format = a.log_format},
                                   .binary = "",
                                   .jail_root = paths->jail_dir,
                                   .id = std::move(relay_prep->id),
                                   .agent = std::move(relay_prep->agent),
                                   .tty = tty.slave.get(),
                                   .signal_fd = sig_fd});
  if (!status) {
    log::warn("exec " + a.exec_id + ": " + status.error().what() + "; reporting it as killed");
    status = ExitStatus{128 + SIGKILL, true, SIGKILL};
  }
  log::debug("container " + a.id + ": exec " + a.exec_id + ": " + status->describe());
  exit_like(*status);
}

}  // namespace

std::vector<std::string> MonitorArgs::to_argv(const std::string& exe) const {
  std::vector<std::string> v{exe, "--root", root};
  if (!log_path.empty()) v.insert(v.end(), {"--log", log_path});
  v.insert(v.end(), {"--log-format", log_format});
  if (debug) v.push_back("--debug");
  v.push_back(kMonitorCommand);
  if (!bundle.empty()) v.insert(v.end(), {"--bundle", bundle});
  if (!exec_id.empty()) v.insert(v.end(), {"--exec-id", exec_id});
  if (!process_file.empty()) v.insert(v.end(), {"--process", process_file});
  if (!sub_cgroup.empty()) v.insert(v.end(), {"--sub-cgroup", sub_cgroup});
  if (!console_socket.empty()) v.insert(v.end(), {"--console-socket", console_socket});
  v.push_back(id);
  return v;
}

[[noreturn]] void exit_like(const ExitStatus& s) {
  // The status comes from the guest: a signal that stops or is ignored by
  // default would freeze or not end the monitor (SIGSTOP stops it for good).
  if (s.signaled && signal_ends_process(s.signal)) {
    rlimit no_core{0, 0};
    (void)::setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    (void)::sigaction(s.signal, &sa, nullptr);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, s.signal);
    (void)::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    (void)::kill(::getpid(), s.signal);
    _exit(128 + s.signal);
  }
  if (s.signaled) _exit((128 + s.signal) & 0xff);
  _exit(s.code & 0xff);
}

int monitor_main(const MonitorArgs& a) {
  // Before any thread exists (gRPC starts some): every thread inherits the
  // mask, so forwarded signals arrive only through the signalfd.
  sigset_t set = forwarded_signals();
  (void)::sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sig_fd(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!sig_fd) {
    send_error(kMonitorSyncFd, Error{Errc::System, errno, "monitor: signalfd"});
    return 1;
  }
  (void)::fcntl(kMonitorSyncFd, F_SETFD, FD_CLOEXEC);
  if (a.exec_id.empty()) return monitor_init(a, kMonitorSyncFd, sig_fd.get());
  return monitor_exec(a, kMonitorSyncFd, sig_fd.get());
}

Result<pid_t> spawn_monitor(const MonitorArgs& args, int sync_fd) {
  HULL_ASSIGN(exe, self_exe());
  SpawnOptions o;
  o.argv = args.to_argv(exe);
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) o.fds.push_back({fd, fd});  // a closed one gets /dev/null
  }
  o.fds.push_back({sync_fd, kMonitorSyncFd});
  std::vector<std::string> env = args.env;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    bool replaced = std::any_of(args.env.begin(), args.env.end(), [&](const std::string& mine) {
      return entry.substr(0, entry.find('=')) == std::string_view(mine).substr(0, mine.find('='));
    });
    if (!replaced) env.emplace_back(entry);
  }
  o.env = std::move(env);
  // The monitor is our child until `create` or `exec` returns; they reap it
  // by pid when it fails early (its pid stays ours until then).
  HULL_ASSIGN(monitor, spawn("monitor", o));
  return monitor.detach();
}

}  // namespace hull::container
