// runtime/jail: what each plan holds, and what a process inside a jail can
// and cannot reach. The second part forks children that enter real jails: it
// needs root and the jail user (scripts/setup.sh creates "hull").
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/spawn.h"
#include "common/unique_fd.h"
#include "runtime/jail/jail.h"
#include "runtime/jail/plans.h"
#include "runtime/vsock/sandboxing.h"

namespace hull::jail {
namespace {

namespace fs = std::filesystem;

bool has_bind(const JailSpec& s, const std::string& src, const std::string& target) {
  for (const Bind& b : s.binds) {
    if (b.source == src && b.target == target) return true;
  }
  return false;
}

rlim_t limit(const JailSpec& s, int resource) {
  for (const Limit& l : s.limits) {
    if (l.resource == resource) return l.value;
  }
  return RLIM_INFINITY;
}

std::string temp_dir() {
  char tmpl[] = "/tmp/hull-jail-XXXXXX";
  return ::mkdtemp(tmpl) ? std::string(tmpl) : std::string();
}

TEST(ResolveIdentity, RefusesRootAndNamesAMissingUser) {
  auto root = resolve_identity("root", "");
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().code, Errc::Invalid);
  auto zero = resolve_identity("0", "");
  ASSERT_FALSE(zero);
  auto none = resolve_identity("no-such-hull-user", "");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::NotFound);
  EXPECT_NE(none.error().what().find("no-such-hull-user"), std::string::npos);
  EXPECT_NE(none.error().what().find("scripts/setup.sh"), std::string::npos);
  auto numeric = resolve_identity("4242", "4343");
  ASSERT_TRUE(numeric) << numeric.error().what();
  EXPECT_EQ(numeric->uid, 4242u);
  EXPECT_EQ(numeric->gid, 4343u);
}

TEST(Prepare, RefusesRootIdentityAndUncleanPaths) {
  std::string dir = temp_dir();
  JailSpec s;
  s.root = dir;
  s.id = {1000, 1000, "u"};
  EXPECT_TRUE(Jail::prepare(s));
  JailSpec r = s;
  r.id.uid = 0;
  EXPECT_FALSE(Jail::prepare(r));
  for (const char* bad : {"relative", "/a/../b", "/a//b", "/a/./b", "/a/"}) {
    JailSpec b = s;
    b.binds.push_back({"/usr", bad, false, false});
    EXPECT_FALSE(Jail::prepare(b)) << bad;
  }
  JailSpec missing = s;
  missing.binds.push_back({dir + "/no-such-file", "/x", false, false});
  auto m = Jail::prepare(missing);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::NotFound);
  ::rmdir(dir.c_str());
}

TEST(Plans, QemuGetsBootFilesDevicesAndLimits) {
  std::string dir = temp_dir();
  std::ofstream(dir + "/vmlinux") << "k";
  std::ofstream(dir + "/initrd.img") << "i";
  ::chmod((dir + "/vmlinux").c_str(), 0644);
  ::chmod((dir + "/initrd.img").c_str(), 0644);
  QemuJailInput in{.root = dir,
                   .id = {999, 995, "hull"},
                   .qemu_path = "/usr/bin/qemu-system-x86_64",
                   .kernel = dir + "/vmlinux",
                   .initrd = dir + "/initrd.img",
                   .memory_mib = 512,
                   .kvm = false,
                   .kvm_group = std::nullopt,
                   .own_network = false};
  auto p = qemu_jail(in);
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_EQ(p->exec_path, "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(p->kernel, kJailKernel);
  EXPECT_EQ(p->initrd, kJailInitrd);
  EXPECT_TRUE(has_bind(p->spec, "/usr", "/usr"));
  EXPECT_TRUE(has_bind(p->spec, dir + "/vmlinux", kJailKernel));
  EXPECT_TRUE(has_bind(p->spec, "/dev/null", "/dev/null"));
  EXPECT_FALSE(has_bind(p->spec, "/dev/kvm", "/dev/kvm"));
  EXPECT_FALSE(has_bind(p->spec, "/etc", "/etc"));
  EXPECT_EQ(p->spec.namespaces & (CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS),
            CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS);
  EXPECT_EQ(p->spec.namespaces & CLONE_NEWNET, 0);  // the caller's: the container's
  in.own_network = true;                            // no NIC: an empty one of its own
  auto n = qemu_jail(in);
  ASSERT_TRUE(n);
  EXPECT_NE(n->spec.namespaces & CLONE_NEWNET, 0);
  in.own_network = false;
  EXPECT_EQ(limit(p->spec, RLIMIT_CORE), 0u);
  EXPECT_EQ(limit(p->spec, RLIMIT_FSIZE), (512ull << 20) + kQemuFileSlackBytes);
  EXPECT_EQ(limit(p->spec, RLIMIT_NOFILE), kQemuNofile);
  EXPECT_EQ(limit(p->spec, RLIMIT_NPROC), kNproc);

  in.kvm = true;
  in.kvm_group = 108;
  auto k = qemu_jail(in);
  ASSERT_TRUE(k);
  EXPECT_TRUE(has_bind(k->spec, "/dev/kvm", "/dev/kvm"));
  EXPECT_EQ(k->spec.groups, std::vector<gid_t>{108});

  // A program outside /usr is bound into the jail; a missing kernel is left
  // for QEMU to name; an unreadable one is refused with the fix.
  in.qemu_path = dir + "/qemu";
  std::ofstream(dir + "/qemu") << "q";
  in.kernel = dir + "/missing";
  auto o = qemu_jail(in);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->exec_path, std::string(kJailExecDir) + "/qemu");
  EXPECT_EQ(o->kernel, dir + "/missing");
  in.kernel = dir + "/vmlinux";
  ::chmod((dir + "/vmlinux").c_str(), 0600);
  auto u = qemu_jail(in);
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().what().find("chmod a+r"), std::string::npos) << u.error().what();
  fs::remove_all(dir);
}

TEST(Plans, VsockGetsItsDirectoryAndANetworkNamespace) {
  std::string dir = temp_dir();
  auto p = vsock_jail({.root = dir,
                       .id = {999, 995, "hull"},
                       .binary = "/usr/libexec/hull-vsock",
                       .socket_dir = dir});
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_TRUE(has_bind(p->spec, dir, dir));
  EXPECT_NE(p->spec.namespaces & CLONE_NEWNET, 0);
  EXPECT_EQ(limit(p->spec, RLIMIT_FSIZE), 0u);
  EXPECT_EQ(p->env, jail_env());
  ::rmdir(dir.c_str());
}

// The monitor's relay: /usr and hull only, its own network namespace, no
// FSIZE (the container's stdout may be a file), few descriptors.
TEST(Plans, RelayGetsItsBinaryOnlyAndNoFileSizeLimit) {
  std::string dir = temp_dir();
  auto p = relay_jail({.root = dir, .id = {999, 995, "hull"}, .binary = "/opt/hull/bin/hull"});
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_EQ(p->exec_path, "/exe/hull");
  EXPECT_TRUE(has_bind(p->spec, "/opt/hull/bin/hull", "/exe/hull"));
  EXPECT_TRUE(has_bind(p->spec, "/usr", "/usr"));
  for (const Bind& b : p->spec.binds) {
    EXPECT_FALSE(b.writable) << b.source;
    EXPECT_FALSE(b.device) << b.source;
  }
  EXPECT_NE(p->spec.namespaces & CLONE_NEWNET, 0);
  EXPECT_EQ(limit(p->spec, RLIMIT_NOFILE), kRelayNofile);
  EXPECT_EQ(limit(p->spec, RLIMIT_CORE), 0u);
  for (const Limit& l : p->spec.limits) EXPECT_NE(l.resource, RLIMIT_FSIZE);
  EXPECT_EQ(p->env, jail_env());
  ::rmdir(dir.c_str());
}

// A jailed VM process keeps its container's host cgroup owner tag: delete of
// another container in a shared cgroup judges by it whose task it is.
TEST(Plans, JailEnvKeepsTheCgroupOwnerTag) {
  ::unsetenv("HULL_CGROUP_OWNER");
  EXPECT_EQ(jail_env(), (std::vector<std::string>{"PATH=/usr/bin:/bin", "LC_ALL=C"}));
  ::setenv("HULL_CGROUP_OWNER", "0123abcd", 1);
  EXPECT_EQ(jail_env(), (std::vector<std::string>{"PATH=/usr/bin:/bin", "LC_ALL=C",
                                                  "HULL_CGROUP_OWNER=0123abcd"}));
  ::unsetenv("HULL_CGROUP_OWNER");
}

// ---- real jails -------------------------------------------------------------

class RealJail : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto id = resolve_identity("hull", "");
    if (!id) GTEST_SKIP() << id.error().what();
    id_ = *id;
    dir_ = temp_dir();
    ASSERT_FALSE(dir_.empty());
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((dir_ + "/jail").c_str(), 0755), 0);
    // What hull-vsock serves: 0710, group of the jail user.
    serve_ = dir_ + "/vsock";
    ASSERT_EQ(::mkdir(serve_.c_str(), 0710), 0);
    ASSERT_EQ(::chown(serve_.c_str(), 0, id_.gid), 0);
    served_ = listen_at(serve_ + "/vsock.sock_53", 0666);
    // Root's, elsewhere: a socket a process could be talked into, a file.
    other_ = listen_at(dir_ + "/root.sock", 0777);
    std::ofstream(dir_ + "/victim") << "root's";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  UniqueFd listen_at(const std::string& path, mode_t mode) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << path;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    EXPECT_EQ(::listen(fd.get(), 4), 0);
    return fd;
  }

  // Runs `body` in a forked child that entered hull-vsock's jail; returns
  // the child's wait status. `body` returns the exit code.
  template <typename F>
  int in_vsock_jail(F body) {
    auto plan = vsock_jail(
        {.root = dir_ + "/jail", .id = id_, .binary = "/usr/bin/true", .socket_dir = serve_});
    EXPECT_TRUE(plan);
    auto jail = Jail::prepare(std::move(plan->spec));
    EXPECT_TRUE(jail) << jail.error().what();
    pid_t pid = ::fork();
    if (pid == 0) {
      const char* step = "";
      if (jail->enter(&step) != 0) {
        std::fprintf(stderr, "entering the jail: %s: %s\n", step, std::strerror(errno));
        ::_exit(100);
      }
      ::_exit(body());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  }

  static int connect_to(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
  }

  // hull-vsock's jail with `binary` as the program: what spawn() gets.
  Jail vsock_jail_for(const std::string& binary) {
    auto plan =
        vsock_jail({.root = dir_ + "/jail", .id = id_, .binary = binary, .socket_dir = serve_});
    EXPECT_TRUE(plan);
    auto jail = Jail::prepare(std::move(plan->spec));
    EXPECT_TRUE(jail) << jail.error().what();
    return std::move(*jail);
  }

  Identity id_;
  std::string dir_, serve_;
  UniqueFd served_, other_;
};

TEST_F(RealJail, ProcessSeesOnlyItsRootAndHasNoPrivilege) {
  const std::string host_mnt = fs::read_symlink("/proc/self/ns/mnt");
  const int st = in_vsock_jail([&] {
    if (::getuid() != id_.uid || ::geteuid() != id_.uid || ::getgid() != id_.gid) return 1;
    if (::access("/etc/shadow", F_OK) == 0 || ::access("/etc", F_OK) == 0) return 2;
    if (::access("/usr/bin", X_OK) != 0) return 3;
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 4;
    if (::prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0) return 5;
    if (::prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0) != 0) return 5;
    if (::mkdir("/x", 0755) == 0 || errno != EROFS) return 6;  // the jail's root is read-only
    rlimit r{};
    if (::getrlimit(RLIMIT_CORE, &r) != 0 || r.rlim_cur != 0 || r.rlim_max != 0) return 7;
    if (::setuid(0) == 0) return 8;
    if (::unshare(CLONE_NEWNS) == 0) return 9;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
  EXPECT_EQ(fs::read_symlink("/proc/self/ns/mnt").string(), host_mnt);
  EXPECT_TRUE(fs::is_empty(dir_ + "/jail"));  // nothing of the jail shows on the host
}

// issue 13 item 2: after setup, hull-vsock reaches the sockets of the one
// directory it serves and nothing else; it cannot unlink at all.
TEST_F(RealJail, VsockConnectsOnlyInItsDirectoryAndCannotUnlink) {
  const std::string served = serve_ + "/vsock.sock_53";
  const std::string other = dir_ + "/root.sock";
  const std::string victim = dir_ + "/victim";
  const int st = in_vsock_jail([&] {
    if (connect_to(served) != 0) return 10;
    const int e = connect_to(other);  // not in its root
    if (e != ENOENT && e != EACCES) return 11;
    if (::unlink(victim.c_str()) == 0) return 12;
    // The served directory is read-only and root's: no new sockets or files there.
    if (::mkdir((serve_ + "/d").c_str(), 0755) == 0) return 13;
    if (!vsock::enter_sandbox()) return 14;
    if (connect_to(served) != 0) return 15;  // what it needs still works under seccomp
    ::unlink(victim.c_str());                // SIGSYS
    return 16;
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << "exit " << WEXITSTATUS(st);
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
  EXPECT_TRUE(fs::exists(victim));
  EXPECT_TRUE(fs::exists(other));
}

// The jail goes through the one spawn() every program of hull starts by:
// its pre_exec hook runs in the clone(CLONE_VM) child, which must leave the
// caller's own namespaces, root, identity and directory as they were.
TEST_F(RealJail, SpawnEntersTheJailThroughItsPreExecHook) {
  const std::string host_mnt = fs::read_symlink("/proc/self/ns/mnt");
  const std::string host_cwd = fs::current_path();
  Jail jail = vsock_jail_for("/usr/bin/sh");
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd rd(p[0]), wr(p[1]);
  SpawnOptions o;
  o.path = "/usr/bin/sh";
  o.argv = {"sh", "-c", "echo $(id -u) $$ $(pwd); test -e /etc || echo no-etc"};
  o.fds = {{wr.get(), 1}};
  o.env = jail_env();
  o.new_pid_namespace = true;
  o.pre_exec = enter_hook;
  o.pre_exec_arg = &jail;
  auto child = spawn("jailed sh", o);
  ASSERT_TRUE(child) << child.error().what();
  wr.reset();
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(rd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  auto st = child->wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->code, 0);
  EXPECT_EQ(out, std::to_string(id_.uid) + " 1 /\nno-etc\n");
  EXPECT_EQ(::geteuid(), 0u);
  EXPECT_EQ(fs::read_symlink("/proc/self/ns/mnt").string(), host_mnt);
  EXPECT_EQ(fs::current_path().string(), host_cwd);
  EXPECT_TRUE(fs::is_empty(dir_ + "/jail"));
}

TEST_F(RealJail, SpawnNamesTheJailStepThatFailed) {
  Jail jail = vsock_jail_for("/usr/bin/true");
  ASSERT_EQ(::rmdir((dir_ + "/jail").c_str()), 0);  // nowhere to mount its root
  SpawnOptions o;
  o.argv = {"/usr/bin/true"};
  o.pre_exec = enter_hook;
  o.pre_exec_arg = &jail;
  auto child = spawn("jailed true", o);
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().sys_errno, ENOENT);
  EXPECT_EQ(child.error().msg,
            "jailed true: mounting the jail's tmpfs before executing /usr/bin/true");
}

}  // namespace
}  // namespace hull::jail
