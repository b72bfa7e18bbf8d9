// integration-vsock: hull-vsock against a real QEMU 7.2 microvm with
// vhost-user-vsock-device (vhost-user.md sec. 8). No guest kernel: QEMU still
// realizes the device (GET_FEATURES .. GET_CONFIG) and keeps running. The full
// guest round trip comes with the agent.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

bool have_qemu() {
  return std::system("command -v qemu-system-x86_64 >/dev/null 2>&1") == 0;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& log, int keep_fd = -1) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (keep_fd >= 0) ::fcntl(keep_fd, F_SETFD, 0);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits up to `limit` for pid to exit; returns its status or -1.
int wait_for(pid_t pid, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

std::string slurp(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

class QemuHandshake : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_qemu()) GTEST_SKIP() << "qemu-system-x86_64 not installed";
    char tmpl[] = "/tmp/hull-vsock-qemu-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (pid_t p : {qemu_, vsock_}) {
      if (p > 0 && wait_for(p, 0ms) == -1) {
        ::kill(p, SIGKILL);
        ::waitpid(p, nullptr, 0);
      }
    }
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }

  std::string dir_;
  pid_t qemu_ = -1;
  pid_t vsock_ = -1;
};

TEST_F(QemuHandshake, DeviceRealizesAndBackendExitsZeroWhenQemuQuits) {
  const std::string sock = dir_ + "/vhost-vsock.sock";
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  vsock_ = spawn({HULL_VSOCK_BIN, "--socket", sock, "--uds", dir_ + "/vsock.sock", "--cid", "3",
                  "--ready-fd", std::to_string(ready[1]), "--log-level", "debug"},
                 dir_ + "/hull-vsock.log", ready[1]);
  ::close(ready[1]);
  char line[16] = {};
  ASSERT_EQ(::read(ready[0], line, sizeof line - 1), 6) << slurp(dir_ + "/hull-vsock.log");
  ::close(ready[0]);
  EXPECT_STREQ(line, "ready\n");

  qemu_ = spawn({"qemu-system-x86_64",
                 "-M",
                 "microvm",
                 "-accel",
                 "tcg",
                 "-m",
                 "256M",
                 "-object",
                 "memory-backend-memfd,id=mem,size=256M,share=on",
                 "-numa",
                 "node,memdev=mem",
                 "-global",
                 "virtio-mmio.force-legacy=false",
                 "-chardev",
                 "socket,id=v,path=" + sock,
                 "-device",
                 "vhost-user-vsock-device,chardev=v",
                 "-nodefaults",
                 "-no-user-config",
                 "-nographic",
                 "-display",
                 "none"},
                dir_ + "/qemu.log");
  // Realize happens at startup; a backend that fails it makes QEMU exit at once.
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(wait_for(qemu_, 0ms), -1) << "QEMU exited: " << slurp(dir_ + "/qemu.log");
  const std::string log = slurp(dir_ + "/hull-vsock.log");
  EXPECT_NE(log.find("GET_CONFIG"), std::string::npos) << log;
  EXPECT_EQ(wait_for(vsock_, 0ms), -1) << "hull-vsock exited early: " << log;

  ASSERT_EQ(::kill(qemu_, SIGTERM), 0);
  EXPECT_NE(wait_for(qemu_, 5000ms), -1);
  qemu_ = -1;
  const int status = wait_for(vsock_, 5000ms);
  ASSERT_NE(status, -1) << "hull-vsock did not exit after QEMU quit";
  vsock_ = -1;
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status) << ": "
                                 << slurp(dir_ + "/hull-vsock.log");
  EXPECT_EQ(WEXITSTATUS(status), 0) << slurp(dir_ + "/hull-vsock.log");
  // Teardown leaves no socket behind.
  struct stat st;
  EXPECT_NE(::stat(sock.c_str(), &st), 0);
  EXPECT_NE(::stat((dir_ + "/vsock.sock").c_str(), &st), 0);
}

TEST_F(QemuHandshake, SetupErrorsExitNonZeroWithAMessage) {
  vsock_ = spawn({HULL_VSOCK_BIN, "--socket", dir_ + "/no/such/dir/x.sock", "--uds",
                  dir_ + "/vsock.sock", "--cid", "3"},
                 dir_ + "/err.log");
  const int status = wait_for(vsock_, 5000ms);
  vsock_ = -1;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(slurp(dir_ + "/err.log").find("bind"), std::string::npos);

  vsock_ =
      spawn({HULL_VSOCK_BIN, "--socket", dir_ + "/a.sock", "--uds", dir_ + "/b.sock", "--cid", "2"},
            dir_ + "/cid.log");
  const int cid_status = wait_for(vsock_, 5000ms);
  vsock_ = -1;
  ASSERT_TRUE(WIFEXITED(cid_status));
  EXPECT_EQ(WEXITSTATUS(cid_status), 1);
  EXPECT_NE(slurp(dir_ + "/cid.log").find("reserved"), std::string::npos);
}

}  // namespace
