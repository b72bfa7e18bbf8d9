// The foreground console's pieces (console.h): the private console socket
// that receives a pty master and leaves nothing behind, and the raw mode of
// the caller's terminal that is always put back.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/monitor/console.h"

namespace hull::container {
namespace {

using std::chrono::milliseconds;

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string parent_of(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

// What the monitor does: connect and send `fd` with a name (SCM_RIGHTS).
void send_fd(const std::string& path, int fd) {
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(s);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  char name[] = "/dev/pts/7";
  char cbuf[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{name, sizeof name - 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ASSERT_GT(::sendmsg(s.get(), &msg, MSG_NOSIGNAL), 0);
}

TEST(ConsoleReceiver, ReceivesTheFdAndRemovesItsSocketAndDirectory) {
  auto r = ConsoleReceiver::listen();
  ASSERT_TRUE(r) << r.error().what();
  const std::string path = r->path();
  ASSERT_TRUE(exists(path));
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  std::thread sender([&] { send_fd(path, wr.get()); });
  auto got = r->receive(milliseconds(5000));
  sender.join();
  ASSERT_TRUE(got) << got.error().what();
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(parent_of(path)));
  wr.reset();  // the received fd is now the only write end
  ASSERT_EQ(::write(got->get(), "x", 1), 1);
  got->reset();
  char c = 0;
  EXPECT_EQ(::read(rd.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
  EXPECT_EQ(::read(rd.get(), &c, 1), 0);  // EOF: no copy of the fd was left open
}

TEST(ConsoleReceiver, NothingSentIsATimeoutAndLeavesNothing) {
  std::string path;
  {
    auto r = ConsoleReceiver::listen();
    ASSERT_TRUE(r) << r.error().what();
    path = r->path();
    auto got = r->receive(milliseconds(50));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, Errc::Timeout);
    EXPECT_NE(got.error().what().find(path), std::string::npos);
  }
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(parent_of(path)));
}

// exec -t in the foreground: the guest starts the process before this side
// can resize its pty, so the size travels in the process itself.
TEST(WithConsoleSize, TheProcessStartsWithTheCallersSize) {
  auto out = with_console_size(R"({"terminal":true,"args":["sh"]})", winsize{30, 100, 0, 0});
  ASSERT_TRUE(out) << out.error().what();
  auto j = nlohmann::json::parse(*out);
  EXPECT_EQ(j["consoleSize"]["height"], 30);
  EXPECT_EQ(j["consoleSize"]["width"], 100);
  EXPECT_EQ(j["args"][0], "sh");
  EXPECT_EQ(j["terminal"], true);
}

TEST(WithConsoleSize, AProcessThatNamesItsSizeKeepsIt) {
  std::string own = R"({"terminal":true,"consoleSize":{"height":5,"width":7}})";
  auto out = with_console_size(own, winsize{30, 100, 0, 0});
  ASSERT_TRUE(out);
  auto j = nlohmann::json::parse(*out);
  EXPECT_EQ(j["consoleSize"]["height"], 5);
  EXPECT_EQ(j["consoleSize"]["width"], 7);
}

TEST(WithConsoleSize, NoSizeWhenTheCallerHasNone) {
  for (winsize ws : {winsize{0, 0, 0, 0}, winsize{0, 80, 0, 0}, winsize{24, 0, 0, 0}}) {
    auto out = with_console_size(R"({"terminal":true})", ws);
    ASSERT_TRUE(out);
    EXPECT_FALSE(nlohmann::json::parse(*out).contains("consoleSize")) << *out;
  }
}

TEST(WithConsoleSize, NotAnObjectIsInvalid) {
  for (const char* bad : {"", "[1]", "{", "\"sh\""}) {
    auto out = with_console_size(bad, winsize{30, 100, 0, 0});
    ASSERT_FALSE(out) << bad;
    EXPECT_EQ(out.error().code, Errc::Invalid) << bad;
  }
}

TEST(RawTerminal, RawWhileAliveAndTheModeRestoredAfter) {
  int m = -1, s = -1;
  ASSERT_EQ(::openpty(&m, &s, nullptr, nullptr, nullptr), 0);
  UniqueFd master(m), slave(s);
  termios before{};
  ASSERT_EQ(::tcgetattr(slave.get(), &before), 0);
  ASSERT_TRUE(before.c_lflag & ICANON);
  {
    RawTerminal raw(slave.get());
    termios now{};
    ASSERT_EQ(::tcgetattr(slave.get(), &now), 0);
    EXPECT_FALSE(now.c_lflag & (ICANON | ECHO | ISIG));
    EXPECT_FALSE(now.c_oflag & OPOST);
  }
  termios after{};
  ASSERT_EQ(::tcgetattr(slave.get(), &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  EXPECT_EQ(after.c_oflag, before.c_oflag);
}

TEST(RawTerminal, NotATerminalIsLeftAlone) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  { RawTerminal raw(rd.get()); }
  EXPECT_EQ(::fcntl(rd.get(), F_GETFD), FD_CLOEXEC);
}

// A container that writes faster than the terminal drains (`yes` on a slow
// terminal) keeps the master readable on every wakeup: the relay must still
// see a signal to forward. Child R relays (stdin /dev/null, stdout a pipe this
// test drains slowly) for its child M, which floods the "master" (a pipe) and
// dies of the SIGTERM R forwards; R then exits with 128 + SIGTERM.
TEST(RelayConsole, AFloodingContainerStillGetsTheSignal) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd out_rd(out[0]), out_wr(out[1]);
  pid_t relay = ::fork();
  ASSERT_GE(relay, 0);
  if (relay == 0) {
    int src[2];
    if (::pipe2(src, O_CLOEXEC) != 0) ::_exit(90);
    pid_t monitor = ::fork();
    if (monitor < 0) ::_exit(91);
    if (monitor == 0) {
      ::close(src[0]);  // so that it dies writing once R is gone
      std::string flood(64 * 1024, 'y');
      for (;;) {
        if (::write(src[1], flood.data(), flood.size()) < 0) ::_exit(92);
      }
    }
    ::close(src[1]);
    int null = ::open("/dev/null", O_RDONLY);
    if (null < 0 || ::dup2(null, STDIN_FILENO) < 0) ::_exit(93);
    if (::dup2(out[1], STDOUT_FILENO) < 0) ::_exit(94);
    auto status = relay_console(monitor, src[0]);
    ::_exit(status ? *status : 95);
  }
  out_wr.reset();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string buf(4096, '\0');
  size_t got = 0;
  bool signalled = false;
  int ws = 0;
  pid_t done = 0;
  while (done == 0 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_rd.get(), POLLIN, 0};
    if (::poll(&p, 1, 1) == 1) {
      ssize_t n = ::read(out_rd.get(), buf.data(), buf.size());
      if (n > 0) got += static_cast<size_t>(n);
    }
    if (!signalled && got >= 512 * 1024) {
      ASSERT_EQ(::kill(relay, SIGTERM), 0);
      signalled = true;
    }
    std::this_thread::sleep_for(milliseconds(1));
    done = ::waitpid(relay, &ws, WNOHANG);
  }
  if (done == 0) {
    ::kill(relay, SIGKILL);  // its monitor then dies writing to a pipe nobody reads
    ::waitpid(relay, &ws, 0);
    FAIL() << "the relay did not end within 10 s of SIGTERM while its output flooded";
  }
  EXPECT_TRUE(signalled);
  ASSERT_TRUE(WIFEXITED(ws)) << ws;
  EXPECT_EQ(WEXITSTATUS(ws), 128 + SIGTERM);
}

// run / exec hold the block from before create to the end of their cleanup:
// a signal then (SIGTERM, or SIGALRM that was not forwarded before) neither
// ends them nor outlives the block (runc drops what it did not forward).
TEST(ForegroundSignalsBlocked, ASignalMeanwhileIsHeldThenDropped) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    {
      ForegroundSignalsBlocked blocked;
      ::raise(SIGTERM);
      ::raise(SIGALRM);
      ::raise(SIGRTMIN + 1);
      sigset_t pending;
      sigpending(&pending);
      if (!sigismember(&pending, SIGTERM) || !sigismember(&pending, SIGALRM)) ::_exit(3);
    }
    sigset_t pending, mask;
    sigpending(&pending);
    ::sigprocmask(SIG_BLOCK, nullptr, &mask);
    ::_exit(sigismember(&pending, SIGTERM) || sigismember(&mask, SIGTERM) ? 4 : 0);
  }
  int ws = 0;
  ASSERT_EQ(::waitpid(child, &ws, 0), child);
  ASSERT_TRUE(WIFEXITED(ws)) << ws;
  EXPECT_EQ(WEXITSTATUS(ws), 0);
}

}  // namespace
}  // namespace hull::container
