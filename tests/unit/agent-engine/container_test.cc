// Busybox containers through the engine, as root on the host without a VM.
// Each test checks the result from inside the container.
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
#include "tests/unit/agent-engine/fixture.h"

namespace hull::engine {
namespace {

using test::base_spec;
using test::ContainerGuard;
using test::Output;

class ContainerTest : public testing::Test {
 protected:
  static void SetUpTestSuite() { rootfs_ = new test::BusyboxRootfs(); }
  static void TearDownTestSuite() {
    delete rootfs_;
    rootfs_ = nullptr;
  }
  void SetUp() override {
    if (!test::running_as_root()) GTEST_SKIP() << "needs root (namespaces, mounts)";
    if (!rootfs_->ok()) GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
  }
  static oci::Spec spec(const std::string& script) { return base_spec(rootfs_->path(), script); }

  static Output run_ok(const oci::Spec& s) {
    auto r = test::run(s, test_id());
    EXPECT_TRUE(r) << (r ? "" : r.error().what());
    return r.value_or(Output{});
  }
  static std::string test_id() {
    return testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  static CreateOptions options(const oci::Spec& s, Stdio stdio = {}) {
    CreateOptions o;
    o.id = test_id();
    o.spec = s;
    o.cgroup_root = std::nullopt;
    o.stdio = stdio;
    o.timeout = std::chrono::seconds(20);
    return o;
  }

  static test::BusyboxRootfs* rootfs_;
};
test::BusyboxRootfs* ContainerTest::rootfs_ = nullptr;

// Pipe for collecting a container's output.
struct OutPipe {
  UniqueFd rd, wr;
  OutPipe() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    rd.reset(p[0]);
    wr.reset(p[1]);
  }
  Stdio stdio() const { return {-1, wr.get(), wr.get()}; }
};

TEST_F(ContainerTest, ExitCode) {
  auto out = run_ok(spec("echo hello; exit 3"));
  EXPECT_EQ(out.status, 3);
  EXPECT_EQ(out.out, "hello\n");
}

TEST_F(ContainerTest, HostnameAndDomainname) {
  oci::Spec s = spec("hostname; cat /proc/sys/kernel/domainname");
  s.domainname = "example.org";
  auto out = run_ok(s);
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.out, "hull-test\nexample.org\n");
}

TEST_F(ContainerTest, PidOneInItsNamespace) {
  auto out = run_ok(spec("echo $$; cat /proc/1/cmdline | tr '\\0' ' '"));
  EXPECT_EQ(out.out, "1\nsh -c echo $$; cat /proc/1/cmdline | tr '\\0' ' ' ");
}

TEST_F(ContainerTest, MountTable) {
  oci::Spec s = spec("cat /proc/self/mountinfo");
  test::TempDir data;
  std::ofstream(data.path() + "/f") << "x";
  oci::Mount m;
  m.destination = "/data";
  m.type = "bind";
  m.source = data.path();
  m.options = std::vector<std::string>{"rbind", "ro", "nosuid", "nodev", "noexec", "rprivate"};
  s.mounts->push_back(m);
  oci::Mount shared = m;
  shared.destination = "/shared";
  shared.options = std::vector<std::string>{"rbind", "rshared"};
  s.mounts->push_back(shared);
  auto out = run_ok(s);
  ASSERT_EQ(out.status, 0) << out.out;
  std::map<std::string, std::string> opts;      // mount point -> per-mount options
  std::map<std::string, std::string> fstype;    // mount point -> fs type
  std::map<std::string, std::string> optional;  // mount point -> optional fields
  std::istringstream in(out.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, dev, root, mp, o, f, opt;
    ls >> id >> parent >> dev >> root >> mp >> o;
    while (ls >> f && f != "-") opt += f + " ";
    std::string type;
    ls >> type;
    opts[mp] = o;
    fstype[mp] = type;
    optional[mp] = opt;
  }
  EXPECT_EQ(opts["/"].substr(0, 3), "ro,") << "root.readonly";
  EXPECT_EQ(fstype["/proc"], "proc");
  EXPECT_EQ(fstype["/dev"], "tmpfs");
  EXPECT_EQ(fstype["/dev/pts"], "devpts");
  EXPECT_EQ(fstype["/dev/shm"], "tmpfs");
  EXPECT_EQ(fstype["/dev/mqueue"], "mqueue");
  EXPECT_EQ(fstype["/sys"], "sysfs");
  EXPECT_EQ(opts["/sys"].substr(0, 3), "ro,");
  EXPECT_EQ(fstype["/sys/fs/cgroup"], "cgroup2");
  EXPECT_EQ(fstype["/tmp"], "tmpfs");
  EXPECT_EQ(opts["/dev/pts"], "rw,nosuid,noexec,relatime");
  EXPECT_EQ(opts["/data"], "ro,nosuid,nodev,noexec,relatime");
  EXPECT_EQ(optional["/data"], "") << "rprivate";
  EXPECT_NE(optional["/shared"].find("shared:"), std::string::npos) << "rshared";
  // Read-only paths and masked paths of runc's default spec.
  EXPECT_EQ(opts["/proc/sys"].substr(0, 3), "ro,");
  EXPECT_EQ(opts["/proc/fs"].substr(0, 3), "ro,");
  // Masked files: the agent's /dev/null bound over them.
  EXPECT_TRUE(fstype.count("/proc/keys")) << "masked /proc/keys";
  EXPECT_TRUE(fstype.count("/proc/timer_list")) << "masked /proc/timer_list";
  if (std::filesystem::exists("/proc/acpi")) {
    EXPECT_EQ(fstype["/proc/acpi"], "tmpfs");
    EXPECT_EQ(opts["/proc/acpi"].substr(0, 3), "ro,");
  }
}

TEST_F(ContainerTest, DevicesAndDevSymlinks) {
  oci::Spec s = spec(
      "for d in null zero full random urandom tty fuse; do stat -c '%n %F %t:%T %a' /dev/$d; done;"
      "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done;"
      "head -c 4 /dev/zero | od -An -tx1");
  oci::Device fuse;
  fuse.type = "c";
  fuse.path = "/dev/fuse";
  fuse.major = 10;
  fuse.minor = 229;
  fuse.file_mode = 0600;
  s.linux->devices = std::vector<oci::Device>{fuse};
  auto out = run_ok(s);
  ASSERT_EQ(out.status, 0) << out.out;
  EXPECT_EQ(out.out,
            "/dev/null character special file 1:3 666\n"
            "/dev/zero character special file 1:5 666\n"
            "/dev/full character special file 1:7 666\n"
            "/dev/random character special file 1:8 666\n"
            "/dev/urandom character special file 1:9 666\n"
            "/dev/tty character special file 5:0 666\n"
            "/dev/fuse character special file a:e5 600\n"
            "/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\n"
            " 00 00 00 00\n");
}

TEST_F(ContainerTest, Capabilities) {
  auto out = run_ok(spec("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)|^NoNewPrivs' /proc/self/status"));
  // runc's defaults: CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10).
  EXPECT_EQ(out.out,
            "CapInh:\t0000000000000000\n"
            "CapPrm:\t0000000020000420\n"
            "CapEff:\t0000000020000420\n"
            "CapBnd:\t0000000020000420\n"
            "CapAmb:\t0000000000000000\n"
            "NoNewPrivs:\t1\n");
}

TEST_F(ContainerTest, AmbientCapabilitiesForNonRootUser) {
  oci::Spec s = spec("grep -E '^Cap(Eff|Amb)' /proc/self/status");
  s.process->user.uid = 1000;
  s.process->user.gid = 1000;
  s.process->capabilities->inheritable = std::vector<std::string>{"CAP_KILL"};
  s.process->capabilities->ambient = std::vector<std::string>{"CAP_KILL"};
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "CapEff:\t0000000000000020\nCapAmb:\t0000000000000020\n");
}

TEST_F(ContainerTest, UserGroupsAndHome) {
  oci::Spec s = spec("id; echo $HOME; umask");
  s.process->user.uid = 1000;
  s.process->user.gid = 1000;
  s.process->user.additional_gids = std::vector<uint32_t>{10, 20};
  s.process->user.umask = 027;
  auto out = run_ok(s);
  EXPECT_EQ(out.out,
            "uid=1000(tester) gid=1000(tester) groups=10(wheel),20(staff)\n/home/tester\n0027\n");
}

TEST_F(ContainerTest, Rlimits) {
  oci::Spec s = spec("ulimit -n; ulimit -Hn; ulimit -c");
  (*s.process->rlimits)[0] = {"RLIMIT_NOFILE", 1024, 512, oci::Json::object()};
  s.process->rlimits->push_back({"RLIMIT_CORE", 0, 0, oci::Json::object()});
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "512\n1024\n0\n");
}

TEST_F(ContainerTest, OomScoreAdjAndEnv) {
  oci::Spec s = spec("cat /proc/self/oom_score_adj; echo $FOO");
  s.process->oom_score_adj = 500;
  s.process->env->push_back("FOO=bar baz");
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "500\nbar baz\n");
}

TEST_F(ContainerTest, CwdIsCreated) {
  oci::Spec s = spec("pwd");
  s.process->cwd = "/work/sub/dir";
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "/work/sub/dir\n");
}

TEST_F(ContainerTest, MaskedAndReadonlyPaths) {
  oci::Spec s = spec(
      "cat /etc/secret-file; ls -A /etc/secret; touch /etc/secret/x 2>&1;"
      "echo 1 > /proc/sys/kernel/domainname 2>&1; echo rc=$?");
  s.linux->masked_paths->push_back("/etc/secret-file");
  s.linux->masked_paths->push_back("/etc/secret");
  s.linux->masked_paths->push_back("/does/not/exist");
  s.linux->readonly_paths->push_back("/does/not/exist/either");
  s.root->readonly = false;
  auto out = run_ok(s);
  EXPECT_NE(out.out.find("touch: /etc/secret/x: Read-only file system"), std::string::npos)
      << out.out;
  EXPECT_NE(out.out.find("Read-only file system\nrc=1"), std::string::npos) << out.out;
  EXPECT_EQ(out.out.find("hidden"), std::string::npos);
  EXPECT_EQ(out.out.find("key"), std::string::npos);
}

TEST_F(ContainerTest, Sysctl) {
  oci::Spec s = spec("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax");
  s.linux->sysctl = oci::StringMap{{"net.ipv4.ip_forward", "1"}, {"kernel.msgmax", "4096"}};
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "1\n4096\n");
}

oci::Seccomp deny_mkdir(std::optional<uint32_t> errno_ret) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  oci::Syscall sc;
  sc.names = {"mkdir", "mkdirat"};
  sc.action = "SCMP_ACT_ERRNO";
  sc.errno_ret = errno_ret;
  p.syscalls = std::vector<oci::Syscall>{sc};
  return p;
}

TEST_F(ContainerTest, SeccompErrnoDefaultsToEperm) {
  oci::Spec s = spec("mkdir /tmp/x; echo rc=$?; grep Seccomp: /proc/self/status");
  s.linux->seccomp = deny_mkdir(std::nullopt);
  auto out = run_ok(s);
  EXPECT_EQ(out.out,
            "mkdir: can't create directory '/tmp/x': Operation not permitted\nrc=1\nSeccomp:\t2\n");
}

TEST_F(ContainerTest, SeccompCustomErrnoRet) {
  oci::Spec s = spec("mkdir /tmp/x; echo rc=$?");
  s.linux->seccomp = deny_mkdir(13);  // EACCES
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "mkdir: can't create directory '/tmp/x': Permission denied\nrc=1\n");
}

TEST_F(ContainerTest, SeccompArgumentComparison) {
  // kill(pid, sig) is refused for SIGUSR1 only: MASKED_EQ on argument 1, a
  // custom errnoRet, and a second condition on the same argument (an OR).
  oci::Spec s = spec(
      "sleep 100 & p=$!; kill -USR1 $p; echo usr1=$?; kill -USR2 $p; echo usr2=$?; kill -TERM $p; "
      "echo term=$?");
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  oci::Syscall k;
  k.names = {"kill"};
  k.action = "SCMP_ACT_ERRNO";
  k.errno_ret = 122;  // EDQUOT
  k.args =
      std::vector<oci::SeccompArg>{{1, 0xff, SIGUSR1, "SCMP_CMP_MASKED_EQ", oci::Json::object()},
                                   {1, SIGUSR2, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()}};
  p.syscalls = std::vector<oci::Syscall>{k};
  s.linux->seccomp = p;
  auto out = run_ok(s);
  EXPECT_NE(out.out.find("Disk quota exceeded\nusr1=1\n"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("Disk quota exceeded\nusr2=1\n"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("term=0\n"), std::string::npos) << out.out;
}

oci::Seccomp docker_profile() {
  auto text =
      read_file(std::string(HULL_SOURCE_DIR) + "/tests/data/seccomp/docker-default.json", 1 << 20);
  EXPECT_TRUE(text);
  auto parsed = oci::parse_spec(
      "{\"ociVersion\":\"1.1.0\",\"linux\":{\"seccomp\":" + text.value_or("{}") + "}}");
  EXPECT_TRUE(parsed) << parsed.error().what();
  return parsed ? *parsed->linux->seccomp : oci::Seccomp{};
}

TEST_F(ContainerTest, SeccompDefaultErrnoRet) {
  // Docker's profile without mkdir, and ENOSYS instead of EPERM by default.
  oci::Seccomp p = docker_profile();
  p.default_errno_ret = 38;
  auto& names = (*p.syscalls)[0].names;
  std::erase_if(names, [](const std::string& n) { return n == "mkdir" || n == "mkdirat"; });
  oci::Spec s = spec("mkdir /tmp/x; echo rc=$?");
  s.linux->seccomp = p;
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "mkdir: can't create directory '/tmp/x': Function not implemented\nrc=1\n");
}

TEST_F(ContainerTest, DockerDefaultSeccompProfile) {
  oci::Spec s = spec(
      "echo hello; ls / > /dev/null && echo ls-ok; (echo sub) | cat; sleep 0.01 & wait; echo "
      "waited;"
      "grep Seccomp: /proc/self/status; unshare -u true 2>/dev/null || echo unshare-denied");
  s.linux->seccomp = docker_profile();
  auto out = run_ok(s);
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.out, "hello\nls-ok\nsub\nwaited\nSeccomp:\t2\nunshare-denied\n");
}

TEST_F(ContainerTest, SeccompWithoutNoNewPrivileges) {
  oci::Spec s = spec("mkdir /tmp/x; grep NoNewPrivs /proc/self/status");
  s.process->no_new_privileges = false;
  s.linux->seccomp = deny_mkdir(std::nullopt);
  auto out = run_ok(s);
  EXPECT_EQ(out.out,
            "mkdir: can't create directory '/tmp/x': Operation not permitted\nNoNewPrivs:\t0\n");
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
      spec("stty size; test -c /dev/console && echo console-ok; read x; stty size; exit 4");
  s.process->terminal = true;
  s.process->console_size = oci::ConsoleSize{24, 80, oci::Json::object()};
  auto c = Container::create(options(s));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  UniqueFd master = g->take_console();
  ASSERT_TRUE(master);
  std::string first = read_until(master.get(), "console-ok");
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

TEST_F(ContainerTest, RootfsPropagationAndTimeNamespace) {
  oci::Spec s = spec("head -n 1 /proc/self/mountinfo; cut -d. -f1 /proc/uptime");
  s.linux->rootfs_propagation = "rshared";
  s.linux->namespaces->push_back({"time", std::nullopt, oci::Json::object()});
  s.linux->time_offsets = oci::Json{{"boottime", {{"secs", 1000000}, {"nanosecs", 0}}}};
  auto out = run_ok(s);
  ASSERT_EQ(out.status, 0) << out.out;
  EXPECT_NE(out.out.find("/rootfs / ro,"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("shared:"), std::string::npos) << out.out;
  auto nl = out.out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  EXPECT_GE(std::stoll(out.out.substr(nl + 1)), 1000000) << "boottime offset";
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
  EXPECT_NE(c.error().msg.find("exec: \"/bin/nope\": cannot run"), std::string::npos)
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
