// Container setup at the edges runc's callers reach, as root on the host
// without a VM: a cwd only root can search, stdio and terminals owned by a
// non-root process user, a read-only /dev, proc on a symlink, recursive
// mount attributes. Each expectation is what runc 1.1 does with the same spec.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/engine/container.h"
#include "tests/unit/agent/engine/container_fixture.h"

namespace hull::engine {
namespace {

namespace fs = std::filesystem;

// A directory of the shared rootfs only root can search (runc's /root for a
// uid 1000 process), removed again at the end of the test.
class PrivateDir {
 public:
  PrivateDir(const std::string& rootfs, const std::string& name)
      : host_(rootfs + "/" + name), path_("/" + name) {
    fs::create_directories(host_);
    ::chmod(host_.c_str(), 0700);
  }
  ~PrivateDir() {
    std::error_code ec;
    fs::remove_all(host_, ec);
  }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
  const std::string& path() const { return path_; }  // in the container

 private:
  std::string host_, path_;
};

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

TEST_F(ContainerTest, CwdOnlyRootCanSearchWorksForANonRootUser) {
  PrivateDir dir(rootfs_->path(), "private-cwd");
  oci::Spec s = spec("pwd; id -u; ls . >/dev/null 2>&1 || echo cannot-list");
  s.process->user.uid = 1000;
  s.process->user.gid = 1000;
  s.process->cwd = dir.path();
  auto out = run_ok(s);
  EXPECT_EQ(out.status, 0) << out.out;
  EXPECT_EQ(out.out, "/private-cwd\n1000\ncannot-list\n");
}

TEST_F(ContainerTest, ExecCwdOnlyRootCanSearchWorksForANonRootUser) {
  PrivateDir dir(rootfs_->path(), "private-exec-cwd");
  auto c = Container::create(options(spec("exec sleep 100")));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  oci::Process p = *spec("").process;
  p.args = std::vector<std::string>{"sh", "-c", "pwd; id -u"};
  p.user.uid = 1000;
  p.user.gid = 1000;
  p.cwd = dir.path();
  OutPipe out;
  auto proc = g->exec(p, out.stdio());
  ASSERT_TRUE(proc) << proc.error().what();
  out.wr.reset();
  EXPECT_EQ(test::read_all(out.rd.get()), "/private-exec-cwd\n1000\n");
  EXPECT_EQ((*proc)->wait().value_or(-1), 0);

  // A cwd that does not exist is still an error for exec (create makes it).
  p.cwd = "/no/such/dir";
  auto bad = g->exec(p, {});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find("process.cwd: chdir /no/such/dir"), std::string::npos)
      << bad.error().msg;
}

TEST_F(ContainerTest, StdioBelongsToTheProcessUser) {
  // runc chowns the process's stdio to its uid before switching to it: a
  // non-root process can reopen its own pipes through /dev/stdout.
  oci::Spec s = spec("stat -L -c %u /proc/self/fd/1; echo reopened > /dev/stdout; echo rc=$?");
  s.process->user.uid = 1000;
  s.process->user.gid = 1000;
  auto out = run_ok(s);
  EXPECT_EQ(out.out, "1000\nreopened\nrc=0\n");
}

TEST_F(ContainerTest, TerminalBelongsToTheProcessUser) {
  // The slave's uid becomes the process's; its group stays devpts' gid=5 (runc).
  oci::Spec s = spec("stat -c %u:%g $(tty) /dev/console; echo done");
  s.process->terminal = true;
  s.process->user.uid = 1000;
  s.process->user.gid = 1000;
  auto c = Container::create(options(s));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  UniqueFd master = g->take_console();
  ASSERT_TRUE(master);
  std::string got = read_until(master.get(), "done");
  EXPECT_NE(got.find("1000:5\r\n1000:5\r\ndone"), std::string::npos) << got;
  EXPECT_EQ(g->wait().value_or(-1), 0);
}

TEST_F(ContainerTest, ExecTerminalBelongsToTheProcessUser) {
  auto c = Container::create(options(spec("exec sleep 100")));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  oci::Process p = *spec("").process;
  p.args = std::vector<std::string>{"sh", "-c", "stat -c %u:%g $(tty); echo done"};
  p.terminal = true;
  p.user.uid = 1000;
  p.user.gid = 1000;
  auto proc = g->exec(p, {});
  ASSERT_TRUE(proc) << proc.error().what();
  UniqueFd master = (*proc)->take_console();
  ASSERT_TRUE(master);
  std::string got = read_until(master.get(), "done");
  EXPECT_NE(got.find("1000:5\r\ndone"), std::string::npos) << got;
  EXPECT_EQ((*proc)->wait().value_or(-1), 0);
}

oci::Mount* find_mount(oci::Spec& s, const std::string& destination) {
  for (auto& m : *s.mounts) {
    if (m.destination == destination) return &m;
  }
  return nullptr;
}

TEST_F(ContainerTest, ReadOnlyDevGetsDevicesPtsAndConsoleFirst) {
  oci::Spec s = spec(
      "test -c /dev/null && test -c /dev/console && test -d /dev/pts && test -L /dev/ptmx && "
      "echo devices-ok; touch /dev/x 2>&1; grep ' /dev ' /proc/self/mountinfo | cut -d' ' -f6; "
      "echo done");
  oci::Mount* dev = find_mount(s, "/dev");
  ASSERT_NE(dev, nullptr);
  dev->options->push_back("ro");
  s.process->terminal = true;
  auto c = Container::create(options(s));
  ASSERT_TRUE(c) << c.error().what();
  ContainerGuard g(std::move(*c));
  ASSERT_TRUE(g->start());
  UniqueFd master = g->take_console();
  ASSERT_TRUE(master);
  std::string got = read_until(master.get(), "done");
  EXPECT_NE(got.find("devices-ok"), std::string::npos) << got;
  EXPECT_NE(got.find("touch: /dev/x: Read-only file system"), std::string::npos) << got;
  EXPECT_NE(got.find("ro,nosuid"), std::string::npos) << got;
  EXPECT_EQ(g->wait().value_or(-1), 0);
}

TEST_F(ContainerTest, ProcOrSysfsOnASymlinkOrFileIsRefusedInRuncsWords) {
  struct Case {
    const char* type;
    const char* name;
    bool symlink;
  };
  for (Case k : {Case{"proc", "proc-link", true}, Case{"proc", "proc-file", false},
                 Case{"sysfs", "sys-link", true}}) {
    std::string host = rootfs_->path() + "/" + k.name;
    if (k.symlink) {
      fs::create_symlink("/nonexistent", host);
    } else {
      std::ofstream(host) << "";
    }
    oci::Spec s = spec("true");
    oci::Mount m;
    m.destination = std::string("/") + k.name;
    m.type = k.type;
    m.source = k.type;
    s.mounts->push_back(m);
    auto c = Container::create(options(s));
    fs::remove(host);
    ASSERT_FALSE(c) << k.name;
    EXPECT_NE(c.error().msg.find(std::string("error mounting \"") + k.type + "\" to rootfs at \"/" +
                                 k.name + "\": filesystem \"" + k.type +
                                 "\" must be mounted on ordinary directory"),
              std::string::npos)
        << c.error().msg;
  }
}

// A host directory with a tmpfs mounted inside it, bound into the container.
class VolumeWithSubmount {
 public:
  VolumeWithSubmount() {
    fs::create_directories(dir_.path() + "/sub");
    ok_ = ::mount("tmpfs", (dir_.path() + "/sub").c_str(), "tmpfs", 0, "size=64k") == 0;
  }
  ~VolumeWithSubmount() {
    if (ok_) ::umount2((dir_.path() + "/sub").c_str(), MNT_DETACH);
  }
  VolumeWithSubmount(const VolumeWithSubmount&) = delete;
  VolumeWithSubmount& operator=(const VolumeWithSubmount&) = delete;
  bool ok() const { return ok_; }
  const std::string& path() const { return dir_.path(); }

 private:
  test::TempDir dir_;
  bool ok_ = false;
};

TEST_F(ContainerTest, RecursiveReadOnlyBindMatchesRunc) {
  VolumeWithSubmount vol;
  ASSERT_TRUE(vol.ok());
  struct Case {
    std::vector<std::string> options;
    const char* want;
  };
  // runc 1.1: "ro" on an rbind leaves the submount writable, "rro" does not,
  // "rrw" after "ro" makes both writable again.
  for (const Case& k :
       {Case{{"rbind", "ro"}, "top=ro sub=rw"}, Case{{"rbind", "rro"}, "top=ro sub=ro"},
        Case{{"rbind", "ro", "rrw"}, "top=rw sub=rw"},
        Case{{"rbind", "rnosuid", "rnoexec"}, "top=rw sub=rw nosuid,noexec"}}) {
    oci::Spec s = spec(
        "touch /vol/a 2>/dev/null && t=rw || t=ro; touch /vol/sub/b 2>/dev/null && u=rw || u=ro;"
        "rm -f /vol/a /vol/sub/b; echo top=$t sub=$u $(grep ' /vol/sub ' /proc/self/mountinfo | "
        "cut -d' ' -f6 | tr ',' '\\n' | grep -E '^no(suid|exec)$' | paste -sd,)");
    oci::Mount m;
    m.destination = "/vol";
    m.type = "bind";
    m.source = vol.path();
    m.options = k.options;
    s.mounts->push_back(m);
    auto out = run_ok(s);
    EXPECT_EQ(out.out, std::string(k.want) + "\n") << testing::PrintToString(k.options);
  }
}

}  // namespace
}  // namespace hull::engine
