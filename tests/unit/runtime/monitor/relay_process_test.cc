// The monitor's relay process (runtime/monitor/relay_process.h): its report
// as data, and real relays (the built hull binary, jailed, under seccomp)
// against fake agents on socketpairs: garbage HTTP/2 from one agent ends
// that relay with an error the monitor reports, and leaves another relay
// running. The real ones need root, the jail user and the built hull.
#include "runtime/monitor/relay_process.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "common/io.h"

namespace hull::container {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(RelayReport, RoundTrips) {
  for (ExitStatus s : {ExitStatus{0, false, 0}, ExitStatus{3, false, 0}, ExitStatus{255, false, 0},
                       ExitStatus{137, true, 9}, ExitStatus{128 + 64, true, 64}}) {
    auto back = parse_relay_report(format_relay_report(s) + "\n");
    ASSERT_TRUE(back) << back.error().what();
    EXPECT_EQ(back->code, s.code);
    EXPECT_EQ(back->signaled, s.signaled);
    EXPECT_EQ(back->signal, s.signal);
  }
  auto e = parse_relay_report(
      format_relay_report(fail(Errc::GuestProtocol, "agent WaitProcess: \x1b[2Jbroken")));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::NotRunning);
  EXPECT_EQ(e.error().what(), "agent WaitProcess: ?[2Jbroken");
}

// runc mode: the relay's DestroySandbox, answered, rides on its report; the
// monitor then skips its own.
TEST(RelayReport, SaysWhetherTheRelayDestroyedTheSandbox) {
  for (bool destroyed : {false, true}) {
    for (ExitStatus s : {ExitStatus{0, false, 0}, ExitStatus{137, true, 9}}) {
      const std::string line = format_relay_report(s, destroyed);
      bool said = !destroyed;
      auto back = parse_relay_report(line + "\n", &said);
      ASSERT_TRUE(back) << line << ": " << back.error().what();
      EXPECT_EQ(back->code, s.code);
      EXPECT_EQ(said, destroyed) << line;
    }
  }
  EXPECT_EQ(format_relay_report(ExitStatus{3, false, 0}, true), "exit 3 destroyed");
  // An error is never a destroyed sandbox, whatever its text says.
  bool said = true;
  auto e = parse_relay_report("error WaitProcess: gone destroyed", &said);
  ASSERT_FALSE(e);
  EXPECT_FALSE(said);
}

TEST(RelayReport, RefusesWhatIsNotAReport) {
  for (std::string_view bad :
       {"", "exit", "exit ", "exit -1", "exit 256", "exit 3x", "signal 0", "signal 65", "signal -9",
        "quit 0", "exit  3", "exit 99999999999999999999", "exit destroyed", "exit  destroyed",
        "exit 3destroyed", "exit 3 destroyed destroyed", "signal 0 destroyed"}) {
    auto r = parse_relay_report(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::GuestProtocol) << bad;
  }
  EXPECT_FALSE(parse_relay_report("error " + std::string(5000, 'x')));
}

TEST(RelayArgs, Argv) {
  RelayArgs a{.id = "c1", .exec_id = "e1", .terminal = true, .debug = true, .log_format = "json"};
  EXPECT_EQ(a.to_argv("/exe/hull"),
            (std::vector<std::string>{"/exe/hull", "--log-format", "json", "--debug", "__relay",
                                      "--exec-id", "e1", "--terminal", "c1"}));
  RelayArgs init{.id = "c1",
                 .exec_id = "",
                 .terminal = false,
                 .destroy_sandbox = true,
                 .debug = false,
                 .log_format = "text"};
  EXPECT_EQ(init.to_argv("/exe/hull"),
            (std::vector<std::string>{"/exe/hull", "--log-format", "text", "__relay",
                                      "--destroy-sandbox", "c1"}));
}

// The allow-list as installed: what the relay does works, an open fails
// with ENOENT without reaching a file, and a call that could reach out of
// its jail (here socket) kills the process with SIGSYS.
TEST(RelayAllowlist, OpenFailsAndSocketKills) {
  for (const auto& r : relay_allowlist()) {
    for (const char* never : {"socket", "connect", "bind", "execve", "execveat", "kill", "ptrace",
                              "unlink", "unlinkat", "mount", "setuid", "process_vm_writev"}) {
      EXPECT_STRNE(r.syscall, never);
    }
  }
  auto run = [](int (*body)()) {
    pid_t pid = ::fork();
    if (pid == 0) {
      if (!jail::install_seccomp(relay_allowlist(), "relay list")) ::_exit(100);
      ::_exit(body());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  };
  int st = run([] {
    if (::open("/etc/hostname", O_RDONLY) >= 0 || errno != ENOENT) return 1;
    if (::openat(AT_FDCWD, "/proc/self/status", O_RDONLY) >= 0 || errno != ENOENT) return 2;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return 3;
    return ::write(p[1], "x", 1) == 1 ? 0 : 4;
  });
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  st = run([] { return ::socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 5; });
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) << st;
}

// ---- real relays --------------------------------------------------------

class RealRelay : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto id = jail::resolve_identity("hull", "");
    if (!id) GTEST_SKIP() << id.error().what();
    id_ = *id;
    hull_ = std::string(HULL_BINARY_DIR) + "/runtime/cli/hull";
    if (::access(hull_.c_str(), X_OK) != 0) GTEST_SKIP() << hull_ << " is not built";
    char tmpl[] = "/tmp/hull-relay-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  struct Agent {
    UniqueFd peer;  // the fake agent's end
    std::future<Result<ExitStatus>> relay;
  };

  // Starts a relay for container `name` whose agent is a socketpair, and
  // waits for gRPC's connection preface: the relay runs.
  Agent start(const std::string& name) {
    std::string root = dir_ + "/" + name;
    EXPECT_EQ(::mkdir(root.c_str(), 0755), 0);
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    Agent a;
    a.peer.reset(sv[0]);
    RelayLaunch l{.args = {.id = name,
                           .exec_id = "",
                           .terminal = false,
                           .debug = false,
                           .log_format = "text"},
                  .binary = hull_,
                  .jail_root = root,
                  .id = id_,
                  .agent = UniqueFd(sv[1]),
                  .tty = -1,
                  .signal_fd = -1};
    a.relay = std::async(std::launch::async,
                         [l = std::move(l)]() mutable { return run_relay_process(std::move(l)); });
    std::string preface;
    char buf[256];
    while (preface.size() < 24) {
      ssize_t n = ::read(a.peer.get(), buf, sizeof buf);
      if (n <= 0) break;
      preface.append(buf, static_cast<size_t>(n));
    }
    EXPECT_EQ(preface.substr(0, 24), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    return a;
  }

  // The relay processes this test started: children of this process.
  static std::vector<pid_t> relays() {
    std::vector<pid_t> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
      pid_t pid = std::atoi(e.path().filename().c_str());
      if (pid <= 0) continue;
      std::ifstream stat(e.path() / "stat");
      std::string line;
      std::getline(stat, line);
      auto close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      char state;
      pid_t ppid = 0;
      rest >> state >> ppid;
      std::ifstream cmd(e.path() / "cmdline");
      std::string args((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
      if (ppid == ::getpid() && args.find(std::string("__relay") + '\0') != std::string::npos) {
        out.push_back(pid);
      }
    }
    return out;
  }

  static std::string status_field(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(key + ":", 0) == 0) {
        std::istringstream v(line.substr(key.size() + 1));
        std::string first;
        v >> first;
        return first;
      }
    }
    return "";
  }

  jail::Identity id_;
  std::string hull_, dir_;
};

// Issue 13 item 5: a fake agent sending garbage HTTP/2 ends only its own
// relay, which reports why (the monitor then reports its container as
// killed); the other relay, confined the same way, runs on.
TEST_F(RealRelay, GarbageHttp2EndsOnlyThatRelay) {
  Agent good = start("good");
  Agent bad = start("bad");
  auto pids = relays();
  ASSERT_EQ(pids.size(), 2u);
  for (pid_t p : pids) {
    // The channel (and its preface) comes first, the filter right after.
    for (int i = 0; i < 100 && status_field(p, "Seccomp") != "2"; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_NE(status_field(p, "Uid"), "0");
    EXPECT_EQ(status_field(p, "CapEff"), "0000000000000000");
    EXPECT_EQ(status_field(p, "CapPrm"), "0000000000000000");
    EXPECT_EQ(status_field(p, "CapBnd"), "0000000000000000");
    EXPECT_EQ(status_field(p, "NoNewPrivs"), "1");
    EXPECT_EQ(status_field(p, "Seccomp"), "2");
  }

  // A frame header claiming 16 MiB of an unknown type, then noise.
  std::string garbage = std::string("\xff\xff\xff\xee\xff\x7f\xff\xff\xff", 9);
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>(i * 131 + 7));
  ASSERT_TRUE(write_all(bad.peer.get(), garbage));
  ASSERT_EQ(bad.relay.wait_for(30s), std::future_status::ready);
  auto r = bad.relay.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotRunning) << r.error().what();
  EXPECT_NE(r.error().what().find("agent"), std::string::npos) << r.error().what();

  EXPECT_EQ(good.relay.wait_for(1s), std::future_status::timeout);
  EXPECT_EQ(relays().size(), 1u);
  good.peer.reset();  // the good agent goes too
  ASSERT_EQ(good.relay.wait_for(30s), std::future_status::ready);
  EXPECT_FALSE(good.relay.get());
  EXPECT_TRUE(relays().empty());
}

}  // namespace
}  // namespace hull::container
