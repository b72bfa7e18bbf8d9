#include "common/process.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace hull {
namespace {

TEST(RunCapture, OutputAndExitStatus) {
  auto r = run_capture({"sh", "-c", "echo out; echo err >&2; exit 3"}, std::chrono::seconds(10),
                       1 << 16);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->exit_status, 3);
  EXPECT_EQ(r->output, "out\nerr\n");
}

TEST(RunCapture, TheChildStartsWithNoSignalBlockedOrIgnored) {
  // hull run holds the signals it forwards blocked; a helper it runs meanwhile
  // (qemu --version) must not inherit that.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGALRM);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  struct sigaction ign {
  }, prev{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGHUP, &ign, &prev);
  auto r = run_capture({"sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status"},
                       std::chrono::seconds(10), 1 << 16);
  ::sigaction(SIGHUP, &prev, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_NE(r->output.find("SigBlk:\t0000000000000000"), std::string::npos) << r->output;
  // sh itself may ignore a few signals; SIGHUP (bit 0) must not be among them.
  auto ign_at = r->output.find("SigIgn:\t");
  ASSERT_NE(ign_at, std::string::npos);
  unsigned long long mask = std::stoull(r->output.substr(ign_at + 8, 16), nullptr, 16);
  EXPECT_EQ(mask & 1ULL, 0ULL) << r->output;
}

}  // namespace
}  // namespace hull
