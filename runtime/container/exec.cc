#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>

#include "common/file.h"
#include "common/log.h"
#include "common/oci/spec.h"
#include "common/pidfd.h"
#include "runtime/container/container.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/proc.h"
#include "runtime/container/sync.h"
#include "runtime/monitor/console.h"
#include "runtime/monitor/monitor.h"

namespace hull::container {
namespace {

using Json = nlohmann::json;
constexpr std::chrono::milliseconds kExecReadyTimeout{60000};
// How often an exec --ignore-paused looks whether the container was resumed.
constexpr std::chrono::milliseconds kPausedPoll{100};

std::string random_id() {
  unsigned char b[8] = {};
  UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  if (fd) (void)::read(fd.get(), b, sizeof b);
  char out[17];
  for (int i = 0; i < 8; ++i) std::snprintf(out + 2 * i, 3, "%02x", b[i]);
  return std::string(out, 16);
}

Result<uint32_t> parse_u32(const std::string& s, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v > UINT32_MAX) {
    return fail(Errc::Invalid, what + " \"" + s + "\": must be a number");
  }
  return static_cast<uint32_t>(v);
}

// --ignore-paused: the state once the container is no longer paused. No lock
// is held meanwhile, so that `resume` (or `delete -f`) can go ahead.
Result<oci::State> wait_unpaused(const Context& ctx, const std::string& id) {
  bool said = false;
  for (;;) {
    HULL_ASSIGN(s, state(ctx, id));
    if (s.status != ContainerStatus::Paused) return s;
    if (!said) log::debug("container " + id + ": paused; the exec waits for `resume`");
    said = true;
    std::this_thread::sleep_for(kPausedPoll);
  }
}

}  // namespace

Result<std::string> exec_process_json(const Context& ctx, const std::string& id,
                                      const ExecArgs& a) {
  HULL_ASSIGN(s, state(ctx, id));
  if (a.args.empty()) return fail(Errc::Invalid, "exec: no command given: pass args or --process");
  HULL_ASSIGN(spec, oci::load_spec_file(s.bundle + "/config.json"));
  oci::Process p = spec.process.value_or(oci::Process{});
  p.args = a.args;
  p.terminal = a.tty;
  if (!a.env.empty()) {
    auto env = p.env.value_or(std::vector<std::string>{});
    env.insert(env.end(), a.env.begin(), a.env.end());
    p.env = env;
  }
  if (!a.cwd.empty()) p.cwd = a.cwd;
  if (!a.user.empty()) {
    auto colon = a.user.find(':');
    HULL_ASSIGN(uid, parse_u32(a.user.substr(0, colon), "--user"));
    p.user.uid = uid;
    if (colon != std::string::npos) {
      HULL_ASSIGN(gid, parse_u32(a.user.substr(colon + 1), "--user"));
      p.user.gid = gid;
    }
  }
  if (!a.additional_gids.empty()) {
    std::vector<uint32_t> gids;
    for (const auto& g : a.additional_gids) {
      HULL_ASSIGN(n, parse_u32(g, "--additional-gids"));
      gids.push_back(n);
    }
    p.user.additional_gids = gids;
  }
  if (!a.caps.empty()) {
    oci::Capabilities c = p.capabilities.value_or(oci::Capabilities{});
    for (auto* set : {&c.bounding, &c.effective, &c.permitted}) {
      auto v = set->value_or(std::vector<std::string>{});
      v.insert(v.end(), a.caps.begin(), a.caps.end());
      *set = v;
    }
    p.capabilities = c;
  }
  if (a.no_new_privs) p.no_new_privileges = true;
  if (!a.apparmor.empty()) p.apparmor_profile = a.apparmor;
  if (!a.process_label.empty()) p.selinux_label = a.process_label;
  oci::Spec wrapper;
  wrapper.oci_version = std::string(oci::kOciVersion);
  wrapper.process = p;
  return oci::to_json(wrapper)["process"].dump();
}

Result<int> exec(const Context& ctx, const ExecOptions& o) {
  HULL_ASSIGN(s, state(ctx, o.id));
  if (o.ignore_paused && s.status == ContainerStatus::Paused) {
    HULL_ASSIGN(unpaused, wait_unpaused(ctx, o.id));
    s = std::move(unpaused);
  }
  HULL_TRY(transition(o.id, s.status, Op::Exec));
  Json proc = Json::parse(o.process_json, nullptr, false);
  if (!proc.is_object()) return fail(Errc::Invalid, "exec: the process is not a JSON object");
  bool terminal = proc.value("terminal", false);
  // runc's checks: a terminal in the foreground is this process's to relay
  // (runtime/monitor/console.h); --console-socket is for a detached terminal only.
  if (terminal && o.detach && o.console_socket.empty()) {
    return fail(Errc::Invalid,
                "cannot allocate tty if hull will detach without setting console socket");
  }
  if ((!terminal || !o.detach) && !o.console_socket.empty()) {
    return fail(Errc::Invalid, "cannot use console socket if hull will not detach or allocate tty");
  }
  std::optional<ConsoleReceiver> console;
  std::string process_json = o.process_json;
  if (terminal && !o.detach) {
    HULL_ASSIGN(r, ConsoleReceiver::listen());
    console.emplace(std::move(r));
    // The process starts with our terminal's size: it runs before the
    // master is ours to resize (with_console_size).
    if (auto ws = caller_window_size()) {
      HULL_ASSIGN(sized, with_console_size(process_json, *ws));
      process_json = std::move(sized);
    }
  }
  std::string exec_id = random_id();
  std::string file = ctx.root + "/" + o.id + "/exec-" + exec_id + ".json";
  HULL_TRY(write_file_atomic(file, process_json, 0600));
  struct Unlink {
    std::string f;
    ~Unlink() { ::unlink(f.c_str()); }
  } unlink_file{file};

  HULL_ASSIGN(pair, sync_pair());
  MonitorArgs ma;
  ma.root = ctx.root;
  ma.id = o.id;
  ma.exec_id = exec_id;
  ma.process_file = file;
  ma.sub_cgroup = o.sub_cgroup;
  ma.console_socket = console ? console->path() : o.console_socket;
  ma.log_path = ctx.log_path;
  ma.log_format = ctx.log_format;
  ma.debug = ctx.debug;
  HULL_ASSIGN(pid, spawn_monitor(ma, pair.second.get()));
  pair.second.reset();
  log::debug("container " + o.id + ": exec " + exec_id + ": monitor " + std::to_string(pid) +
             " started");
  auto ready = recv_sync(pair.first.get(), kExecReadyTimeout);
  if (!ready || ready->type != SyncType::Ready) {
    pair.first.reset();
    if (!ready || ready->type != SyncType::Error) ::kill(pid, SIGKILL);
    int ws = 0;
    while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    if (!ready) return fail(std::move(ready.error()).wrap("exec"));
    return fail(ready->error);
  }
  auto abort = [&](Error e) {
    pair.first.reset();
    int ws = 0;
    while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    return fail(std::move(e));
  };
  UniqueFd master;
  if (console) {
    // The monitor sent the terminal before `ready`.
    auto m = console->receive(kExecReadyTimeout);
    if (!m) return abort(std::move(m.error()).wrap("exec"));
    master = std::move(*m);
    copy_window_size(master.get());
  }
  if (!o.pid_file.empty()) {
    if (auto st = write_file_atomic(o.pid_file, std::to_string(pid), 0644); !st) {
      return abort(std::move(st.error()).wrap("writing --pid-file"));
    }
  }
  SyncMessage commit;
  commit.type = SyncType::Commit;
  if (auto st = send_sync(pair.first.get(), commit); !st) return abort(std::move(st.error()));
  if (o.detach) return 0;
  if (master) {
    RawTerminal raw(STDIN_FILENO);
    return relay_console(pid, master.get());
  }
  return wait_forwarding(pid);
}

Result<int> wait_forwarding(pid_t pid) {
  sigset_t set = foreground_signals();
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC));
  UniqueFd pfd(::pidfd_open(pid, 0));
  for (;;) {
    if (!sfd || !pfd) break;
    pollfd p[2] = {{pfd.get(), POLLIN, 0}, {sfd.get(), POLLIN, 0}};
    int n = ::poll(p, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || p[0].revents) break;
    signalfd_siginfo si{};
    if (::read(sfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      ::kill(pid, static_cast<int>(si.ssi_signo));  // our unreaped child: the pid is stable
    }
  }
  auto r = wait_child_monitor(pid);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  return r;
}

}  // namespace hull::container
