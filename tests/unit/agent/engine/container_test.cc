// Busybox containers through the engine, as root on the host without a VM:
// the lifecycle (create/start, signals, exit status, exec, pty, namespaces,
// cgroup root, errors).
#include "agent/engine/container.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/engine/pty.h"
#include "common/file.h"
#include "tests/unit/agent/engine/container_fixture.h"

namespace hull::engine {
namespace {

TEST_F(ContainerTest, ExitCode) {
  auto out = run_ok(spec("echo hello; exit 3"));
  EXPECT_EQ(out.status, 3);
  EXPECT_EQ(out.out, "hello\n");
}

TEST_F(ContainerTest, CreateThenStart) {
  test::TempDir data;
  oci::Spec s = spec("echo ran > /data/marker");
  oci::Mount m;
  m.destination = "/data";
  m.type = "bind";
  m.source = data.path();
  m.options = std::vector<std::string>{"bind"};
  s.mounts->push_back(m);
  auto c = Container::create(options(s));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  EXPECT_EQ(g->state(), ContainerState::Created);
  EXPECT_GT(g->pid(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(std::filesystem::exists(data.path() + "/marker")) << "ran before start";
  // Not yet exec'd: its command line is still the init's.
  auto cmdline = read_file("/proc/" + std::to_string(g->pid()) + "/cmdline", 4096);
  ASSERT_TRUE(cmdline);
  EXPECT_EQ(cmdline->substr(0, 9), "hull-init");
  ASSERT_TRUE(g->start());
  auto st = g->wait();
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, 0);
  EXPECT_EQ(g->state(), ContainerState::Stopped);
  EXPECT_EQ(read_file(data.path() + "/marker", 100).value_or(""), "ran\n");
  auto again = g->start();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::InvalidState);
}

TEST_F(ContainerTest, DestroyBeforeStartRunsNothing) {
  auto c = Container::create(options(spec("true")));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->destroy());
  auto st = g->wait();
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, 137);
}

TEST_F(ContainerTest, SignalsAndExitStatus) {
  // pid 1 of a pid namespace only gets signals it handles (SIGKILL aside).
  oci::Spec s = spec("trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done");
  OutPipe out;
  auto c = Container::create(options(s, out.stdio()));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  out.wr.reset();
  ASSERT_TRUE(g->start());
  char buf[6] = {};
  ASSERT_EQ(::read(out.rd.get(), buf, 6), 6);
  ASSERT_TRUE(g->signal(SIGTERM, false));
  EXPECT_EQ(g->wait().value_or(-1), 7);
  EXPECT_EQ(g->signal(SIGTERM, false).error().code, Errc::NotRunning);
}

TEST_F(ContainerTest, SignalRightAfterStartWaitsForTheInitsHandler) {
  // The init installs its handler late (a slow start, as under TCG): a signal
  // sent at once is held until the handler is there (signal_grace.h).
  oci::Spec s = spec("sleep 0.3; trap 'exit 7' TERM; sleep 10 & wait $!");
  auto c = Container::create(options(s));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  ASSERT_TRUE(g->signal(SIGTERM, false));
  EXPECT_EQ(g->wait().value_or(-1), 7);
}

TEST_F(ContainerTest, KilledBySignalIs128PlusN) {
  auto c = Container::create(options(spec("sleep 100")));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  ASSERT_TRUE(g->signal(SIGKILL, true));
  EXPECT_EQ(g->wait().value_or(-1), 137);
}

TEST_F(ContainerTest, SignalWithoutPidNamespace) {
  oci::Spec s = spec("exec sleep 100");
  auto& ns = *s.linux->namespaces;
  ns.erase(
      std::remove_if(ns.begin(), ns.end(), [](const oci::Namespace& n) { return n.type == "pid"; }),
      ns.end());
  auto c = Container::create(options(s));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(g->signal(SIGTERM, false));
  EXPECT_EQ(g->wait().value_or(-1), 128 + SIGTERM);
}

TEST_F(ContainerTest, SignalAllReachesEveryProcessInThePidNamespace) {
  oci::Spec s = spec("sleep 100 & sleep 100 & echo ready; wait; echo children-gone");
  OutPipe out;
  auto c = Container::create(options(s, out.stdio()));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  out.wr.reset();
  ASSERT_TRUE(g->start());
  char buf[6] = {};
  ASSERT_EQ(::read(out.rd.get(), buf, 6), 6);
  ASSERT_TRUE(g->signal(SIGTERM, true));  // pid 1 has no handler: only the sleeps die
  EXPECT_EQ(test::read_all(out.rd.get()), "children-gone\n");
  EXPECT_EQ(g->wait().value_or(-1), 0);
}

TEST_F(ContainerTest, Exec) {
  OutPipe init_out;
  auto c = Container::create(options(spec("echo ready; exec sleep 100"), init_out.stdio()));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  init_out.wr.reset();
  ASSERT_TRUE(g->start());
  char buf[6] = {};
  ASSERT_EQ(::read(init_out.rd.get(), buf, 6), 6);

  oci::Process p = *spec("").process;
  p.args = std::vector<std::string>{"sh", "-c",
                                    "hostname; cat /proc/1/comm; echo $$; id -u; pwd; exit 5"};
  p.user.uid = 1000;
  p.user.gid = 1000;
  p.cwd = "/tmp";
  OutPipe out;
  auto proc = g->exec(p, out.stdio());
  ASSERT_TRUE(proc) << proc.error().what();
  out.wr.reset();
  std::istringstream lines(test::read_all(out.rd.get()));
  std::string hostname, comm, pid, uid, cwd;
  lines >> hostname >> comm >> pid >> uid >> cwd;
  EXPECT_EQ(hostname, "hull-test");
  EXPECT_EQ(comm, "sleep") << "same pid namespace: pid 1 is the container's init";
  EXPECT_GT(std::stoi(pid), 1);
  EXPECT_EQ(uid, "1000");
  EXPECT_EQ(cwd, "/tmp");
  EXPECT_EQ((*proc)->wait().value_or(-1), 5);
  EXPECT_EQ(g->state(), ContainerState::Running);

  oci::Process missing = p;
  missing.args = std::vector<std::string>{"no-such-program"};
  auto bad = g->exec(missing, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::NotFound);
  EXPECT_NE(bad.error().msg.find("exec: \"no-such-program\": executable file not found in $PATH"),
            std::string::npos)
      << bad.error().msg;

  ASSERT_TRUE(g->destroy());
  EXPECT_EQ(g->wait().value_or(-1), 137);
  EXPECT_EQ(g->exec(p, {}).error().code, Errc::NotRunning);
}

// Reads from the pty master until `want` shows up (or 10 s pass).
std::string read_until(int fd, const std::string& want) {
  std::string got;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.find(want) == std::string::npos && std::chrono::steady_clock::now() < until) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST_F(ContainerTest, TerminalMode) {
  oci::Spec s =
      spec("tty; stty size; test -c /dev/console && echo console-ok; read x; stty size; exit 4");
  s.process->terminal = true;
  s.process->console_size = oci::ConsoleSize{24, 80, oci::Json::object()};
  auto c = Container::create(options(s));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  UniqueFd master = g->take_console();
  ASSERT_TRUE(master);
  std::string first = read_until(master.get(), "console-ok");
  // runc's pty: from the container's own devpts, not the agent's.
  EXPECT_NE(first.find("/dev/pts/0"), std::string::npos) << first;
  EXPECT_NE(first.find("24 80"), std::string::npos) << first;
  EXPECT_NE(first.find("console-ok"), std::string::npos) << first;
  ASSERT_TRUE(resize_pty(master.get(), 30, 100));
  ASSERT_EQ(::write(master.get(), "\n", 1), 1);
  std::string second = read_until(master.get(), "30 100");
  EXPECT_NE(second.find("30 100"), std::string::npos) << second;
  EXPECT_EQ(g->wait().value_or(-1), 4);
}

TEST_F(ContainerTest, ResizeWithoutTerminalIsAnError) {
  auto c = Container::create(options(spec("true")));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  EXPECT_EQ(g->resize(1, 1).error().code, Errc::InvalidState);
}

TEST_F(ContainerTest, UserNamespace) {
  oci::Spec s =
      spec("cat /proc/self/uid_map /proc/self/gid_map; id -u; test -c /dev/null && echo null-ok");
  s.linux->namespaces->push_back({"user", std::nullopt, oci::Json::object()});
  s.linux->uid_mappings = std::vector<oci::IdMapping>{{0, 100000, 65536, oci::Json::object()}};
  s.linux->gid_mappings = std::vector<oci::IdMapping>{{0, 100000, 65536, oci::Json::object()}};
  auto out = run_ok(s);
  EXPECT_EQ(out.status, 0) << out.out;
  EXPECT_EQ(out.out,
            "         0     100000      65536\n         0     100000      65536\n0\nnull-ok\n");
}

TEST_F(ContainerTest, ExecIntoUserNamespace) {
  oci::Spec s = spec("exec sleep 100");
  s.linux->namespaces->push_back({"user", std::nullopt, oci::Json::object()});
  s.linux->uid_mappings = std::vector<oci::IdMapping>{{0, 200000, 65536, oci::Json::object()}};
  s.linux->gid_mappings = std::vector<oci::IdMapping>{{0, 200000, 65536, oci::Json::object()}};
  auto c = Container::create(options(s));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  oci::Process p = *s.process;
  p.args = std::vector<std::string>{"sh", "-c", "cat /proc/self/uid_map; id -u"};
  OutPipe out;
  auto proc = g->exec(p, out.stdio());
  ASSERT_TRUE(proc) << proc.error().what();
  out.wr.reset();
  EXPECT_EQ(test::read_all(out.rd.get()), "         0     200000      65536\n0\n");
  EXPECT_EQ((*proc)->wait().value_or(-1), 0);
}

TEST_F(ContainerTest, CgroupRootAndPathAreHonoured) {
  // A scratch directory shaped like cgroupfs: the engine creates the cgroup,
  // writes the resources before anything runs and joins the init to it.
  test::TempDir cg;
  std::string dir = cg.path() + "/pods/c1";
  std::filesystem::create_directories(dir);
  for (const char* f : {"cgroup.procs", "memory.max", "pids.max", "cgroup.subtree_control"}) {
    std::ofstream(dir + "/" + f);
  }
  oci::Spec s = spec("true");
  s.linux->cgroups_path = "/pods/c1";
  s.linux->resources->devices.reset();
  s.linux->resources->memory.emplace();
  s.linux->resources->memory->limit = 64 << 20;
  s.linux->resources->pids.emplace();
  s.linux->resources->pids->limit = 32;
  CreateOptions o = options(s);
  o.cgroup_root = cg.path();
  auto c = Container::create(o);
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(read_file(dir + "/memory.max", 100).value_or(""), "67108864");
  EXPECT_EQ(read_file(dir + "/pids.max", 100).value_or(""), "32");
  auto procs = read_file(dir + "/cgroup.procs", 100);
  ASSERT_TRUE(procs);
  EXPECT_GT(std::stoi(*procs), 0) << "the bootstrap joined before setting up";
  ASSERT_TRUE((*c)->cgroup());
  EXPECT_EQ((*c)->cgroup()->path(), dir);
  // Not cgroupfs: there is no cgroup.kill or cgroup.events, so kill the init
  // directly and let the test's TempDir remove the files.
  ASSERT_TRUE((*c)->signal(SIGKILL, false));
  EXPECT_EQ((*c)->wait().value_or(-1), 137);
  (void)(*c)->destroy();
}

TEST_F(ContainerTest, JoinNamespaceByPath) {
  auto first = Container::create(options(spec("exec sleep 100")));
  ASSERT_TRUE(first) << first.error().what();
  ContainerGuard a(std::move(*first));
  ASSERT_TRUE(a->start());
  oci::Spec s = spec("hostname");
  s.hostname.reset();
  for (auto& n : *s.linux->namespaces) {
    if (n.type == "uts") n.path = "/proc/" + std::to_string(a->pid()) + "/ns/uts";
  }
  auto r = test::run(s, "joiner");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->out, "hull-test\n");
}

TEST_F(ContainerTest, BadSpecValuesAreErrorsNamingTheField) {
  oci::Spec s = spec("true");
  s.process->rlimits->push_back({"RLIMIT_FOO", 1, 1, oci::Json::object()});
  auto c = Container::create(options(s));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::Invalid);
  EXPECT_EQ(c.error().msg, "process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"");

  s = spec("true");
  s.process->args = std::vector<std::string>{"/bin/nope"};
  c = Container::create(options(s));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().msg.find("exec: \"/bin/nope\": stat /bin/nope: no such file or directory"),
            std::string::npos)
      << c.error().msg;

  s = spec("true");
  oci::Mount m;
  m.destination = "/data";
  m.type = "bind";
  m.source = "/no/such/dir";
  m.options = std::vector<std::string>{"bind"};
  s.mounts->push_back(m);
  c = Container::create(options(s));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().msg.find("mounts[8].source: /no/such/dir"), std::string::npos)
      << c.error().msg;
  EXPECT_EQ(c.error().sys_errno, ENOENT);

  CreateOptions o = options(spec("true"));
  o.id = "../x";
  EXPECT_EQ(Container::create(o).error().code, Errc::Invalid);
}

// Refusals before the init exists (the seccomp profile, the rootfs, the
// cgroup) are errors and nothing else: the agent is PID 1, and a crash there
// is a kernel panic that takes every other container of the VM with it.
TEST_F(ContainerTest, RefusalsBeforeTheInitAreErrorsNotCrashes) {
  oci::Spec s = spec("true");
  oci::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.listener_path = "/run/seccomp-agent.sock";
  sc.syscalls = std::vector<oci::Syscall>(1);
  (*sc.syscalls)[0].names = {"mkdir"};
  (*sc.syscalls)[0].action = "SCMP_ACT_NOTIFY";
  s.linux->seccomp = sc;
  auto c = Container::create(options(s));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::Unsupported);
  EXPECT_EQ(c.error().msg.rfind("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not "
                                "supported",
                                0),
            0u)
      << c.error().msg;

  (*s.linux->seccomp->syscalls)[0].action = "SCMP_ACT_PANIC";
  c = Container::create(options(s));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().msg, "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_PANIC\"");

  s = spec("true");
  s.root->path = "/no/such/rootfs";
  c = Container::create(options(s));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().sys_errno, ENOENT) << c.error().what();

  s = spec("true");
  s.root->path = rootfs_->path() + "/bin/busybox";
  c = Container::create(options(s));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().msg.find("is not a directory"), std::string::npos) << c.error().msg;

  // A cgroup root that is not there: Cgroup::create fails before any init.
  s = spec("true");
  s.linux->cgroups_path = "/pods/c1";
  CreateOptions o = options(s);
  o.cgroup_root = "/no/such/cgroup/root";
  c = Container::create(o);
  ASSERT_FALSE(c);

  // And the engine still creates containers afterwards.
  auto out = run_ok(spec("echo after"));
  EXPECT_EQ(out.out, "after\n");
}

TEST_F(ContainerTest, ConcurrentCreatesFromThreads) {
  // The agent creates containers from gRPC threads while others run: the
  // vfork-style spawn must work from any thread of a busy process.
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = test::run(spec("echo " + std::to_string(i)), "t" + std::to_string(i));
      outputs[i] = r ? r->out : r.error().what();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(outputs[i], std::to_string(i) + "\n");
}

TEST_F(ContainerTest, NoStrayFileDescriptors) {
  // An fd the test leaks without O_CLOEXEC must not reach the container.
  int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 0);
  auto out = run_ok(spec("ls /proc/self/fd | sort -n | tr '\\n' ' '"));
  ::close(leaked);
  EXPECT_EQ(out.out, "0 1 2 3 ");  // 3: the directory ls is reading
}

}  // namespace
}  // namespace hull::engine
