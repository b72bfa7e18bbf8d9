// connect_hybrid() against a scripted fake of the hybrid socket.
#include "runtime/vsock/hybrid_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <thread>

namespace hull::vsock {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class FakeHybridServer {
 public:
  // `serve(fd, n)` handles the n-th accepted stream (0-based).
  FakeHybridServer(std::string path, std::function<void(int, int)> serve) : path_(std::move(path)) {
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    ::unlink(path_.c_str());
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
    thread_ = std::thread([this, serve] {
      for (int n = 0;; ++n) {
        UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!c || stop_) return;
        serve(c.get(), n);
      }
    });
  }
  ~FakeHybridServer() {
    stop_ = true;
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
    ::unlink(path_.c_str());
  }

 private:
  std::string path_;
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string read_line(int fd) {
  std::string s;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') s.push_back(c);
  return s;
}

std::string temp_path(const char* name) {
  return "/tmp/hull-hybrid-" + std::to_string(::getpid()) + "-" + name;
}

TEST(ConnectHybrid, ReadsReplyByteByByteAndKeepsFollowingBytes) {
  const std::string path = temp_path("ok");
  std::string got_line;
  FakeHybridServer srv(path, [&](int fd, int) {
    got_line = read_line(fd);
    // OK and the first bytes of the guest's stream in one write.
    const std::string out = "OK 1073741824\nSETTINGS";
    ::send(fd, out.data(), out.size(), 0);
    char c;
    ::read(fd, &c, 1);  // wait for the client to finish
  });
  auto fd = connect_hybrid(path, 1024, Clock::now() + 2s);
  ASSERT_TRUE(fd) << fd.error().what();
  EXPECT_EQ(got_line, "CONNECT 1024");
  char buf[16] = {};
  ASSERT_EQ(::recv(fd->get(), buf, 8, MSG_WAITALL), 8);
  EXPECT_EQ(std::string(buf, 8), "SETTINGS");
  ::send(fd->get(), "x", 1, 0);
}

TEST(ConnectHybrid, RetriesEofUntilTheGuestListens) {
  const std::string path = temp_path("retry");
  FakeHybridServer srv(path, [](int fd, int n) {
    (void)read_line(fd);
    if (n < 2) return;  // EOF: no listener yet
    ::send(fd, "OK 5\n", 5, 0);
    char c;
    ::read(fd, &c, 1);
  });
  auto fd = connect_hybrid(path, 1024, Clock::now() + 5s);
  ASSERT_TRUE(fd) << fd.error().what();
  ::send(fd->get(), "x", 1, 0);
}

TEST(ConnectHybrid, RetriesUntilTheSocketExists) {
  const std::string path = temp_path("late");
  ::unlink(path.c_str());
  std::unique_ptr<FakeHybridServer> srv;
  std::thread late([&] {
    std::this_thread::sleep_for(150ms);
    srv = std::make_unique<FakeHybridServer>(path, [](int fd, int) {
      (void)read_line(fd);
      ::send(fd, "OK 5\n", 5, 0);
      char c;
      ::read(fd, &c, 1);
    });
  });
  auto fd = connect_hybrid(path, 7, Clock::now() + 5s);
  late.join();
  ASSERT_TRUE(fd) << fd.error().what();
  ::send(fd->get(), "x", 1, 0);
}

TEST(ConnectHybrid, DeadlinePasses) {
  const std::string path = temp_path("never");
  ::unlink(path.c_str());
  const auto start = Clock::now();
  auto fd = connect_hybrid(path, 7, start + 300ms);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code, Errc::Timeout);
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(ConnectHybrid, WrongReplyIsAProtocolError) {
  const std::string path = temp_path("bad");
  FakeHybridServer srv(path, [](int fd, int) {
    (void)read_line(fd);
    ::send(fd, "NO\n", 3, 0);
  });
  auto fd = connect_hybrid(path, 7, Clock::now() + 2s);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code, Errc::GuestProtocol);
}

TEST(ConnectHybrid, OverlongReplyIsAProtocolError) {
  const std::string path = temp_path("long");
  FakeHybridServer srv(path, [](int fd, int) {
    (void)read_line(fd);
    const std::string s(40, 'O');
    ::send(fd, s.data(), s.size(), 0);
  });
  auto fd = connect_hybrid(path, 7, Clock::now() + 2s);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code, Errc::GuestProtocol);
}

}  // namespace
}  // namespace hull::vsock
