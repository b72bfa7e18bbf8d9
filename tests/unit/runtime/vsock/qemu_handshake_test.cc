// integration-vsock: hull-vsock against a real QEMU 7.2 microvm with
// vhost-user-vsock-device (docs/vsock.md "What QEMU 7.2 sends").
//  - No guest kernel: QEMU still realizes the device (GET_FEATURES ..
//    GET_CONFIG) and keeps running; hull-vsock exits 0 when QEMU quits.
//  - With the guest image (HULL_GUEST_DIR, else <build>/guest; skipped when
//    absent): the guest driver starts the rings and a host CONNECT 1024
//    reaches hull-agent's gRPC server through real guest vsock.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/vsock/hybrid_client.h"

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
  // hull-vsock has no unlink (its seccomp list leaves it out): the socket
  // files are its launcher's to remove, as the sandbox removes vsock/.
  struct stat st;
  EXPECT_EQ(::stat(sock.c_str(), &st), 0);
  EXPECT_EQ(::stat((dir_ + "/vsock.sock").c_str(), &st), 0);
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

std::string guest_dir() {
  if (const char* d = std::getenv("HULL_GUEST_DIR")) return d;
  return std::string(HULL_BINARY_DIR) + "/guest";
}

// Host TSC in kHz for tsc_early_khz= (TCG cannot calibrate it), from /proc/cpuinfo.
std::string tsc_khz() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu MHz", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos)
        return std::to_string(static_cast<long>(std::stod(line.substr(colon + 1)) * 1000));
    }
  }
  return "2000000";
}

TEST_F(QemuHandshake, GuestAgentAnswersThroughHybridVsock) {
  const std::string guest = guest_dir();
  struct stat st;
  if (::stat((guest + "/vmlinux").c_str(), &st) != 0 ||
      ::stat((guest + "/initrd.img").c_str(), &st) != 0)
    GTEST_SKIP() << "no guest image in " << guest << " (build target guest-image)";
  const std::string sock = dir_ + "/vhost-vsock.sock";
  const std::string uds = dir_ + "/vsock.sock";
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  vsock_ = spawn({HULL_VSOCK_BIN, "--socket", sock, "--uds", uds, "--cid", "3", "--ready-fd",
                  std::to_string(ready[1]), "--log-level", "debug"},
                 dir_ + "/hull-vsock.log", ready[1]);
  ::close(ready[1]);
  char line[16] = {};
  ASSERT_EQ(::read(ready[0], line, sizeof line - 1), 6) << slurp(dir_ + "/hull-vsock.log");
  ::close(ready[0]);
  qemu_ = spawn({"qemu-system-x86_64",
                 "-M",
                 "microvm,acpi=on",
                 "-accel",
                 "tcg",
                 "-cpu",
                 "max",
                 "-m",
                 "256M",
                 "-smp",
                 "1",
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
                 "-no-reboot",
                 "-kernel",
                 guest + "/vmlinux",
                 "-initrd",
                 guest + "/initrd.img",
                 "-append",
                 "console=ttyS0 quiet panic=-1 noreplace-smp tsc_early_khz=" + tsc_khz(),
                 "-serial",
                 "file:" + dir_ + "/console.log"},
                dir_ + "/qemu.log");

  // The agent listens on vsock port 1024 once it has booted; retry until then.
  auto fd = hull::vsock::connect_hybrid(uds, 1024, std::chrono::steady_clock::now() + 90s);
  ASSERT_TRUE(fd) << fd.error().what() << "\nconsole:\n"
                  << slurp(dir_ + "/console.log") << "\nhull-vsock:\n"
                  << slurp(dir_ + "/hull-vsock.log");
  // A gRPC server speaks first (HTTP/2 SETTINGS); connect_hybrid read only up to
  // the newline, so that frame is still in the socket for us.
  unsigned char frame[9] = {};
  pollfd p{fd->get(), POLLIN, 0};
  if (::poll(&p, 1, 5000) == 1) {
    ASSERT_EQ(::recv(fd->get(), frame, sizeof frame, MSG_WAITALL), 9);
    EXPECT_EQ(frame[3], 0x04) << "first guest bytes are not an HTTP/2 SETTINGS frame";
  }

  // No listener on another port: the guest answers RST, the client sees EOF.
  auto none = hull::vsock::connect_hybrid(uds, 4444, std::chrono::steady_clock::now() + 1s);
  ASSERT_FALSE(none);

  ASSERT_EQ(::kill(qemu_, SIGTERM), 0);
  EXPECT_NE(wait_for(qemu_, 5000ms), -1);
  qemu_ = -1;
  const int status = wait_for(vsock_, 5000ms);
  vsock_ = -1;
  ASSERT_NE(status, -1);
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status) << ": "
                                 << slurp(dir_ + "/hull-vsock.log");
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
