#include "runtime/monitor/relay_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <ctime>

#include "common/io.h"
#include "common/log.h"
#include "common/spawn.h"
#include "runtime/container/paths.h"
#include "runtime/jail/plans.h"
#include "runtime/jail/seccomp.h"
#include "runtime/monitor/relay.h"
#include "runtime/sandbox/agent_client.h"
#include "runtime/sandbox/agent_reply.h"
#include "runtime/sandbox/container_client_impl.h"

namespace hull::container {
namespace {

constexpr const char* kAllowlistName = "runtime/monitor/seccomp_allowlist.txt";
// Ends an exit or signal report when the relay's DestroySandbox was answered.
constexpr std::string_view kDestroyedWord = " destroyed";
// A report longer than this is not one.
constexpr size_t kMaxReportBytes = 4096;
// How long the monitor waits for a relay that has closed its pidfd's
// readiness (it has ended) to be reaped.
constexpr std::chrono::milliseconds kRelayReapWait{5000};

bool parse_int(std::string_view s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

Status write_report(const Result<ExitStatus>& r, bool destroyed = false) {
  return write_all(kRelayReportFd, format_relay_report(r, destroyed) + "\n");
}

}  // namespace

const std::vector<jail::SeccompRule>& relay_allowlist() {
  static const std::vector<jail::SeccompRule> rules = {
#include "runtime/monitor/seccomp_allowlist.inc"
  };
  return rules;
}

std::vector<std::string> RelayArgs::to_argv(const std::string& exe) const {
  std::vector<std::string> v{exe, "--log-format", log_format};
  if (debug) v.push_back("--debug");
  v.push_back(kRelayCommand);
  if (!exec_id.empty()) v.insert(v.end(), {"--exec-id", exec_id});
  if (terminal) v.push_back("--terminal");
  if (destroy_sandbox) v.push_back("--destroy-sandbox");
  v.push_back(id);
  return v;
}

std::string format_relay_report(const Result<ExitStatus>& r, bool destroyed) {
  if (!r) return "error " + sandbox::printable(r.error().what(), kMaxReportBytes / 2);
  const std::string tail = destroyed ? std::string(kDestroyedWord) : "";
  if (r->signaled) return "signal " + std::to_string(r->signal) + tail;
  return "exit " + std::to_string(r->code) + tail;
}

Result<ExitStatus> parse_relay_report(std::string_view text, bool* destroyed) {
  if (destroyed) *destroyed = false;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  auto bad = [&] {
    return fail(Errc::GuestProtocol,
                "the relay's report is not \"exit N\", \"signal N\" or \"error TEXT\": \"" +
                    sandbox::printable(text, 200) + "\"");
  };
  if (text.size() > kMaxReportBytes) return bad();
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return bad();
  const std::string_view word = text.substr(0, space), rest = text.substr(space + 1);
  if (word == "error") {
    return fail(Errc::NotRunning, sandbox::printable(rest, kMaxReportBytes / 2));
  }
  std::string_view number = rest;
  const bool said_destroyed = number.ends_with(kDestroyedWord);
  if (said_destroyed) number.remove_suffix(kDestroyedWord.size());
  int n = 0;
  if (!parse_int(number, &n)) return bad();
  if (destroyed) *destroyed = said_destroyed;
  if (word == "exit" && n >= 0 && n <= 255) return ExitStatus{n, false, 0};
  if (word == "signal" && n >= 1 && n <= 64) return ExitStatus{128 + n, true, n};
  return bad();
}

int relay_main(const RelayArgs& a) {
  // Every signal blocked, in every thread to come: the monitor forwards what
  // the container should get through fd 5, a closed stdout is EPIPE, not
  // SIGPIPE, and nothing sent to the relay's session ends it but SIGKILL.
  sigset_t all;
  sigfillset(&all);
  (void)::sigprocmask(SIG_BLOCK, &all, nullptr);
  log::Sink sink = log::sink();
  sink.fd = kRelayLogFd;
  sink.prefix = "[ctr=" + a.id + (a.exec_id.empty() ? "" : " exec=" + a.exec_id) + " relay]";
  log::install(sink);
  ::tzset();  // log lines use local time: /etc/localtime now or never (no open later)

  // The channel (and gRPC's threads) first, then the filter on every thread:
  // what gRPC does once at start (counting CPUs through /sys) is not on the list.
  auto client = sandbox::AgentClient::from_fd(UniqueFd(kRelayAgentFd));
  if (auto st = jail::install_seccomp(relay_allowlist(), kAllowlistName); !st) {
    (void)write_report(fail(std::move(st.error()).wrap("relay: installing seccomp")));
    return 1;
  }
  sandbox::GrpcContainerClient guest(client);
  RelayFds fds;
  if (a.terminal) {
    fds.in = fds.out = fds.tty = 0;
  } else {
    fds.in = 0;
    fds.out = 1;
    fds.err = 2;
  }
  fds.signal_fd = kRelaySignalFd;
  Relay relay(guest, a.id, a.exec_id, fds, a.terminal);
  auto status = relay.run();
  bool destroyed = false;
  if (a.destroy_sandbox && status) {
    if (auto st = client.destroy_sandbox(sandbox::kDestroySandboxTimeout); st) {
      destroyed = true;
    } else {
      log::warn(st.error().what() + " (the monitor's teardown tries again)");
    }
  }
  if (!write_report(status, destroyed)) return 1;
  // Threads may still block in a read of stdin or of the guest: no unwinding.
  _exit(0);
}

Result<ExitStatus> run_relay_process(RelayLaunch l) {
  std::string exe = l.binary;
  if (exe.empty()) {
    HULL_ASSIGN(self, self_exe());
    exe = std::move(self);
  }
  HULL_ASSIGN(
      plan, wrap(jail::relay_jail({.root = l.jail_root, .id = l.id, .binary = exe}), "relay jail"));
  HULL_ASSIGN(jail, wrap(jail::Jail::prepare(std::move(plan.spec)), "relay jail"));
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("relay: pipe");
  UniqueFd report_r(p[0]), report_w(p[1]);
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("relay: pipe");
  UniqueFd signal_r(p[0]), signal_w(p[1]);
  // A relay that stops reading its signals must not block the monitor.
  (void)::fcntl(signal_w.get(), F_SETFL, O_NONBLOCK);

  SpawnOptions o;
  o.path = plan.exec_path;
  o.argv = l.args.to_argv(plan.exec_path);
  o.env = plan.env;
  if (l.args.terminal) {
    o.fds.push_back({l.tty, 0});
  } else {
    for (int fd = 0; fd <= 2; ++fd) {
      if (::fcntl(fd, F_GETFD) >= 0) o.fds.push_back({fd, fd});
    }
  }
  o.fds.push_back({l.agent.get(), kRelayAgentFd});
  o.fds.push_back({report_w.get(), kRelayReportFd});
  o.fds.push_back({signal_r.get(), kRelaySignalFd});
  if (const int log_fd = log::sink().fd; log_fd >= 0) o.fds.push_back({log_fd, kRelayLogFd});
  // PID 1 of its own PID namespace: it can name no other process (the jail
  // user's QEMUs and hull-vsocks included), and dies with all its threads.
  o.new_pid_namespace = true;
  o.pre_exec = jail::enter_hook;
  o.pre_exec_arg = &jail;
  HULL_ASSIGN(relay, spawn("relay", o));
  l.agent.reset();
  report_w.reset();
  signal_r.reset();
  log::debug("container " + l.args.id + ": relay " + std::to_string(relay.pid()) + " started");

  for (;;) {
    pollfd pf[2] = {{relay.pidfd(), POLLIN, 0}, {l.signal_fd, POLLIN, 0}};
    int n = ::poll(pf, l.signal_fd >= 0 ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("relay: poll");
    if (pf[0].revents) break;
    if (pf[1].revents) {
      signalfd_siginfo si{};
      if (::read(l.signal_fd, &si, sizeof si) != static_cast<ssize_t>(sizeof si)) continue;
      if (si.ssi_signo == SIGCHLD || si.ssi_signo == SIGPIPE) continue;  // ours
      (void)::write(signal_w.get(), &si, sizeof si);  // full: the relay is stuck anyway
    }
  }
  auto ended = relay.wait_for(kRelayReapWait);
  if (!ended) return fail(std::move(ended.error()).wrap("relay"));
  std::string report;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(report_r.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buf, static_cast<size_t>(n));
    if (report.size() > kMaxReportBytes) break;
  }
  if (report.empty()) {
    std::string why = "the relay process " + ended->describe() + " without a report";
    if (ended->signaled && ended->signal == SIGSYS) {
      why += " (a system call outside " + std::string(kAllowlistName) +
             "; the kernel's audit log names it)";
    }
    return fail(Errc::Internal, why);
  }
  return parse_relay_report(report, l.guest_destroyed);
}

}  // namespace hull::container
