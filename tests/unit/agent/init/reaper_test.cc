#include "agent/init/reaper.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hull::agent::init {
namespace {

using ::testing::HasSubstr;

// Waits for the signalfd and lets the reaper run until `done` or 10 s.
template <typename Pred>
bool pump(Reaper& reaper, Pred done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p{reaper.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      EXPECT_TRUE(reaper.on_readable());
    }
  }
  return true;
}

class ReaperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Orphans of this test process come to it, as they come to PID 1 in the guest.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  }
  void TearDown() override {
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
};

TEST_F(ReaperTest, DeliversTheStatusOfAWatchedChild) {
  auto reaper = Reaper::create();
  ASSERT_TRUE(reaper) << reaper.error().what();
  pid_t got_pid = 0;
  int got_status = -1;
  pid_t pid;
  {
    auto hold = reaper->hold();
    pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(7);
    hold.watch(pid, [&](pid_t p, int status) {
      got_pid = p;
      got_status = status;
    });
  }
  ASSERT_TRUE(pump(*reaper, [&] { return got_pid != 0; }));
  EXPECT_EQ(got_pid, pid);
  ASSERT_TRUE(WIFEXITED(got_status));
  EXPECT_EQ(WEXITSTATUS(got_status), 7);
  EXPECT_EQ(reaper->watched(), 0u);
  EXPECT_EQ(reaper->orphans_reaped(), 0u);
}

TEST_F(ReaperTest, HoldKeepsAChildThatEndsBeforeWatchFromBeingReapedAsAnOrphan) {
  auto reaper = Reaper::create();
  ASSERT_TRUE(reaper);
  int got_status = -1;
  std::thread sweeper;
  {
    auto hold = reaper->hold();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(3);
    // Another thread reaping now must wait for the hold to go.
    sweeper = std::thread([&] { reaper->reap_now(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the child has ended
    hold.watch(pid, [&](pid_t, int status) { got_status = status; });
  }
  sweeper.join();
  ASSERT_TRUE(WIFEXITED(got_status));
  EXPECT_EQ(WEXITSTATUS(got_status), 3);
  EXPECT_EQ(reaper->orphans_reaped(), 0u);
}

TEST_F(ReaperTest, ReapsOrphansSilently) {
  auto reaper = Reaper::create();
  ASSERT_TRUE(reaper);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t middle = ::fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    // Two grandchildren, orphaned when the middle process exits.
    for (int i = 0; i < 2; ++i) {
      if (::fork() == 0) {
        char c;
        ::close(p[1]);
        (void)::read(p[0], &c, 1);  // until the test closes the pipe
        ::_exit(0);
      }
    }
    ::_exit(0);
  }
  ::close(p[0]);
  ASSERT_TRUE(pump(*reaper, [&] { return reaper->orphans_reaped() >= 1; }));  // the middle one
  ::close(p[1]);
  ASSERT_TRUE(pump(*reaper, [&] { return reaper->orphans_reaped() == 3; }));
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // nothing left
  EXPECT_EQ(errno, ECHILD);
}

TEST(DescribeWaitStatus, ExitAndSignal) {
  EXPECT_EQ(describe_wait_status(3 << 8), "exited with status 3");
  EXPECT_THAT(describe_wait_status(SIGKILL), HasSubstr("killed by signal 9 (Killed)"));
  EXPECT_THAT(describe_wait_status(SIGSEGV | 0x80), HasSubstr("core dumped"));
}

}  // namespace
}  // namespace hull::agent::init
