// The monitor's relay against the fake client: pipes both ways, stderr apart,
// signals forwarded (from a real signalfd), SIGWINCH as a resize of the host
// pty, the exit status returned once output drained.
#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <thread>

#include "runtime/monitor/relay.h"

#include "common/io.h"
#include "tests/fakes/fake_container_client.h"

namespace hull::container {
namespace {

using hull::testing::FakeContainerClient;

struct Pipe {
  UniqueFd r, w;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    r.reset(fds[0]);
    w.reset(fds[1]);
  }
};

std::string read_all(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// The fake outlives the relay's detached stdin thread.
std::shared_ptr<FakeContainerClient> make_guest() {
  return std::make_shared<FakeContainerClient>();
}

TEST(Relay, PipesBothWaysAndExitCodeOnEof) {
  auto g = make_guest();
  g->exit_on_eof = 3;
  Pipe in, out, err;
  ASSERT_TRUE(write_all(in.w.get(), "hello\nerr:oops\nbye\n"));
  in.w.reset();  // EOF after the data: the fake exits 3
  Relay relay(*g, "c1", "", RelayFds{in.r.get(), out.w.get(), err.w.get(), -1, -1}, false);
  auto st = relay.run();
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->code, 3);
  EXPECT_FALSE(st->signaled);
  out.w.reset();
  err.w.reset();
  EXPECT_EQ(read_all(out.r.get()), "hello\nbye\n");
  EXPECT_EQ(read_all(err.r.get()), "oops\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // stdin thread winds down
}

TEST(Relay, ForwardsSignalsFromTheSignalfdAndReportsTheKill) {
  auto g = make_guest();
  g->fatal_signals = {SIGTERM};
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  sigset_t old;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &set, &old), 0);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC));
  ASSERT_TRUE(sfd);
  Pipe out;
  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(::getpid(), SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(::getpid(), SIGTERM);
  });
  Relay relay(*g, "c1", "", RelayFds{-1, out.w.get(), -1, -1, sfd.get()}, false);
  auto st = relay.run();
  killer.join();
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->signaled);
  EXPECT_EQ(st->signal, SIGTERM);
  EXPECT_EQ(st->code, 128 + SIGTERM);
  EXPECT_EQ(g->signals(), (std::vector<int>{SIGUSR1, SIGTERM}));
}

TEST(Relay, WinchBecomesAResizeOfTheHostPty) {
  auto g = make_guest();
  int m = -1, s = -1;
  ASSERT_EQ(::openpty(&m, &s, nullptr, nullptr, nullptr), 0);
  UniqueFd master(m), slave(s);
  winsize ws{};
  ws.ws_row = 33;
  ws.ws_col = 101;
  ASSERT_EQ(::ioctl(master.get(), TIOCSWINSZ, &ws), 0);
  Relay relay(*g, "c1", "e1", RelayFds{-1, -1, -1, slave.get(), -1}, true);
  relay.handle_signal(SIGWINCH);
  relay.handle_signal(SIGCHLD);  // the monitor's own: not forwarded
  EXPECT_EQ(g->resizes(), (std::vector<std::pair<uint32_t, uint32_t>>{{33, 101}}));
  EXPECT_TRUE(g->signals().empty());
}

TEST(Relay, OutputWrittenBeforeTheExitIsDelivered) {
  auto g = make_guest();
  Pipe in, out;
  ASSERT_TRUE(write_all(in.w.get(), std::string(1000, 'x') + "\n"));
  std::thread ender([g] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    g->end(ExitStatus{0, false, 0});
  });
  Relay relay(*g, "c1", "", RelayFds{in.r.get(), out.w.get(), -1, -1, -1}, true);
  auto st = relay.run();
  ender.join();
  ASSERT_TRUE(st);
  out.w.reset();
  EXPECT_EQ(read_all(out.r.get()).size(), 1001u);
  in.w.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace hull::container
