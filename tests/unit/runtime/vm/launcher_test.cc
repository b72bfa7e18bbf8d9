// The launcher's readiness and failure reporting, with shell scripts standing
// in for hull-vsock and virtiofsd.
#include "runtime/vm/launcher.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace hull::vm {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-launch-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string script(const std::string& name, const std::string& body) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    ::chmod(p.c_str(), 0755);
    return p;
  }
  VsockLaunch vsock(const std::string& binary) {
    VsockLaunch l;
    l.binary = binary;
    l.vhost_user_socket = dir_ + "/vhost.sock";
    l.uds_path = dir_ + "/vsock.sock";
    l.guest_cid = 42;
    l.log_path = dir_ + "/vsock.log";
    l.ready_timeout = 2000ms;
    return l;
  }
  std::string dir_;
};

TEST_F(LauncherTest, HullVsockReadyLineAndArguments) {
  auto bin = script("vsock", "echo \"$@\"; echo ready >&3; exec sleep 100");
  auto c = start_hull_vsock(vsock(bin));
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_FALSE(c->poll_exit());
  c->kill_and_reap();
  std::ifstream in(dir_ + "/vsock.log");
  std::string args;
  std::getline(in, args);
  EXPECT_EQ(args,
            "--socket " + dir_ + "/vhost.sock --uds " + dir_ + "/vsock.sock --cid 42 --ready-fd 3");
}

TEST_F(LauncherTest, HullVsockThatFailsIsReportedWithItsOutput) {
  auto bin = script("vsock", "echo 'hull-vsock: bind: Address in use' >&2; exit 1");
  auto c = start_hull_vsock(vsock(bin));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::NotRunning);
  EXPECT_NE(c.error().msg.find("exited with status 1"), std::string::npos) << c.error().msg;
  EXPECT_NE(c.error().msg.find("Address in use"), std::string::npos) << c.error().msg;
}

TEST_F(LauncherTest, HullVsockThatNeverGetsReadyTimesOut) {
  auto bin = script("vsock", "echo starting; exec sleep 100");
  auto l = vsock(bin);
  l.ready_timeout = 200ms;
  auto c = start_hull_vsock(l);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::Timeout);
  EXPECT_NE(c.error().msg.find("starting"), std::string::npos) << c.error().msg;
}

TEST_F(LauncherTest, HullVsockWithAWrongLineIsAProtocolError) {
  auto bin = script("vsock", "echo nope >&3; exec sleep 100");
  auto c = start_hull_vsock(vsock(bin));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::GuestProtocol);
}

// The sandbox's shared dir is a mount of its own (sandbox::make_shared_mount).
struct BindOntoItself {
  std::string dir;
  explicit BindOntoItself(std::string d) : dir(std::move(d)) {
    fs::create_directory(dir);
    if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0) dir.clear();
  }
  ~BindOntoItself() {
    if (!dir.empty()) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

TEST_F(LauncherTest, VirtiofsdGetsAListeningSocketAsFd3) {
  BindOntoItself shared(dir_ + "/shared");
  ASSERT_FALSE(shared.dir.empty()) << "bind-mounting " << dir_ << "/shared: " << strerror(errno);
  // The fake accepts one connection on fd 3 (python-free: socat is not
  // guaranteed, so just check that fd 3 is a listening unix socket). It
  // also tries to write at the top of the dir it exports.
  auto bin = script("virtiofsd",
                    "echo \"$@\"; readlink /proc/self/fd/3; ls /proc/self/fd | tr '\\n' ' '; "
                    "echo; echo pid=$$; touch " +
                        shared.dir + "/top 2>/dev/null && echo writable || echo read-only");
  VirtiofsdLaunch l;
  l.spec.path = bin;
  l.spec.source_dir = shared.dir;
  l.socket_path = dir_ + "/virtiofsd.sock";
  l.log_path = dir_ + "/virtiofsd.log";
  auto c = start_virtiofsd(l);
  ASSERT_TRUE(c) << c.error().what();
  auto st = c->wait_for(5s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0);
  std::ifstream in(l.log_path);
  std::string args, fd3, fds, pid, top;
  std::getline(in, args);
  std::getline(in, fd3);
  std::getline(in, fds);
  std::getline(in, pid);
  std::getline(in, top);
  EXPECT_EQ(args.rfind("--fd=3 -o source=" + dir_ + "/shared", 0), 0u) << args;
  EXPECT_EQ(fd3.rfind("socket:", 0), 0u) << fd3;
  EXPECT_EQ(pid, "pid=1");  // PID 1 of its own namespace
  // Read-only for virtiofsd, in its own mount namespace; hull's view stays writable.
  EXPECT_EQ(top, "read-only");
  EXPECT_FALSE(fs::exists(shared.dir + "/top"));
  EXPECT_TRUE(std::ofstream(shared.dir + "/hull-writes-here").good());
  // The socket file exists and accepts connections even before virtiofsd runs.
  struct stat s {};
  ASSERT_EQ(::stat(l.socket_path.c_str(), &s), 0);
  EXPECT_TRUE(S_ISSOCK(s.st_mode));
}

TEST_F(LauncherTest, QemuThatCannotStartIsNotFound) {
  QemuSpec q;
  q.qemu_path = dir_ + "/no-such-qemu";
  auto c = start_qemu(q, dir_ + "/qemu.log");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::NotFound);
}

}  // namespace
}  // namespace hull::vm
