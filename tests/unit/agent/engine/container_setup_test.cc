// Busybox containers through the engine, as root on the host without a VM:
// what the process sees inside (mounts, devices, capabilities, user, rlimits,
// masked and read-only paths, sysctls, seccomp).
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
#include <map>
#include <sstream>
#include <thread>

#include "agent/engine/pty.h"
#include "common/file.h"
#include "tests/unit/agent/engine/container_fixture.h"

namespace hull::engine {
namespace {

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

// runtime-tools' mounts program: one directory bound with each propagation
// option (next to options a bind ignores), and a file bound read-only. Each is
// at its destination, its mountinfo root ends in the source's name (runtimetest
// matches bind mounts by that), and it has the propagation asked for. Also as
// the mapped root of a user namespace, which binds with open_tree(2) too.
void check_bind_propagation(oci::Spec s, bool userns) {
  test::TempDir data;
  ASSERT_EQ(::chmod(data.path().c_str(), 0711), 0);  // reachable by a mapped root
  std::filesystem::create_directory(data.path() + "/etc");
  std::ofstream(data.path() + "/etc/f") << "in-etc";
  std::ofstream(data.path() + "/hosts") << "h";
  const std::vector<std::string> props = {"shared",  "rshared",  "slave",      "rslave",
                                          "private", "rprivate", "unbindable", "runbindable"};
  for (const auto& p : props) {
    oci::Mount m;
    m.destination = "/mnt/etc-" + p;
    m.source = data.path() + "/etc";
    // A user namespace cannot change the locked atime flags of the source's
    // mount, so strictatime only without one.
    m.options = std::vector<std::string>{"nosuid",  userns ? "nodev" : "strictatime", "mode=755",
                                         "size=1k", p[0] == 'r' ? "rbind" : "bind",   p};
    s.mounts->push_back(m);
  }
  oci::Mount file;
  file.destination = "/mnt/hosts";
  file.source = data.path() + "/hosts";
  file.options = std::vector<std::string>{"bind", "ro"};
  s.mounts->push_back(file);
  if (userns) {
    s.linux->namespaces->push_back({"user", std::nullopt, oci::Json::object()});
    s.linux->uid_mappings = std::vector<oci::IdMapping>{{0, 100000, 65536, oci::Json::object()}};
    s.linux->gid_mappings = std::vector<oci::IdMapping>{{0, 100000, 65536, oci::Json::object()}};
  }
  auto r = test::run(s, testing::UnitTest::GetInstance()->current_test_info()->name());
  ASSERT_TRUE(r) << r.error().what();
  ASSERT_EQ(r->status, 0) << r->out;
  std::map<std::string, std::string> root, opts, optional;
  std::istringstream in(r->out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, dev, rt, mp, o, f, opt;
    if (!(ls >> id >> parent >> dev >> rt >> mp >> o)) continue;
    while (ls >> f && f != "-") opt += f + " ";
    if (root.count(mp)) continue;  // the first mount at a mount point is the spec's
    root[mp] = rt;
    opts[mp] = o;
    optional[mp] = opt;
  }
  for (const auto& p : props) {
    std::string mp = "/mnt/etc-" + p;
    ASSERT_TRUE(root.count(mp)) << mp << " missing:\n" << r->out;
    EXPECT_EQ(std::filesystem::path(root[mp]).filename(), "etc") << mp;
    EXPECT_NE(opts[mp].find("nosuid"), std::string::npos) << mp;
    bool shared = optional[mp].find("shared:") != std::string::npos;
    EXPECT_EQ(shared, p == "shared" || p == "rshared") << mp << ": " << optional[mp];
    bool unbindable = optional[mp].find("unbindable") != std::string::npos;
    EXPECT_EQ(unbindable, p == "unbindable" || p == "runbindable") << mp << ": " << optional[mp];
  }
  EXPECT_EQ(std::filesystem::path(root["/mnt/hosts"]).filename(), "hosts");
  EXPECT_EQ(opts["/mnt/hosts"].substr(0, 3), "ro,");
  EXPECT_NE(r->out.find("in-etc"), std::string::npos);
}

constexpr const char* kShowMounts = "cat /proc/self/mountinfo; cat /mnt/etc-shared/f";

TEST_F(ContainerTest, BindMountPropagation) {
  check_bind_propagation(spec(kShowMounts), false);
}

TEST_F(ContainerTest, BindMountPropagationInUserNamespace) {
  check_bind_propagation(spec(kShowMounts), true);
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

TEST_F(ContainerTest, SeccompRefusingCloseRangeLeaksNoFd) {
  // A profile without close_range (runtime-tools' default has none) must not
  // keep the engine's sync socket open in the container process: start would
  // wait for its EOF until the timeout. (ls's errors are dropped: the shell
  // closes its pipe's ends while ls reads their links.)
  for (bool nnp : {false, true}) {
    oci::Spec s = spec("ls -l /proc/$$/fd 2>/dev/null | grep -c socket:");
    s.process->no_new_privileges = nnp;
    oci::Seccomp p;
    p.default_action = "SCMP_ACT_ALLOW";
    oci::Syscall sc;
    sc.names = {"close_range"};
    sc.action = "SCMP_ACT_ERRNO";
    p.syscalls = std::vector<oci::Syscall>{sc};
    s.linux->seccomp = p;
    auto out = run_ok(s);
    EXPECT_EQ(out.out, "0\n") << "noNewPrivileges " << nnp;
  }
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

TEST_F(ContainerTest, SchedulerAndIoPriority) {
  oci::Spec s = spec(
      "grep '^policy' /proc/self/sched | tr -s ' '; cut -d' ' -f19 /proc/self/stat; ionice -p $$");
  s.process->scheduler = oci::Json{{"policy", "SCHED_BATCH"}, {"nice", 5}};
  s.process->io_priority = oci::Json{{"class", "IOPRIO_CLASS_BE"}, {"priority", 4}};
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "policy : 3\n5\nbest-effort: prio 4\n");
}

TEST_F(ContainerTest, Personality) {
  oci::Spec s = spec("uname -m");
  s.linux->personality = oci::Personality{"LINUX32", std::nullopt, oci::Json::object()};
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "i686\n");
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

}  // namespace
}  // namespace hull::engine
