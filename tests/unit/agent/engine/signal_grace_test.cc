#include "agent/engine/signal_grace.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <string>

namespace hull::engine {
namespace {

constexpr const char* kStatus =
    "Name:\tsh\nState:\tS (sleeping)\nSigQ:\t0/7823\nSigPnd:\t0000000000000000\n"
    "ShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000004\n"
    "SigCgt:\t0000000000004001\nCapInh:\t0000000000000000\n";

TEST(SignalGrace, CaughtIgnoredAndDefault) {
  EXPECT_TRUE(signal_disposition_set(kStatus, SIGHUP));    // caught: bit 0
  EXPECT_TRUE(signal_disposition_set(kStatus, SIGTERM));   // caught: bit 14
  EXPECT_TRUE(signal_disposition_set(kStatus, SIGQUIT));   // ignored: bit 2
  EXPECT_FALSE(signal_disposition_set(kStatus, SIGUSR1));  // default
  EXPECT_FALSE(signal_disposition_set(kStatus, SIGINT));
}

TEST(SignalGrace, RealtimeSignals) {
  EXPECT_TRUE(signal_disposition_set("SigCgt:\t8000000000000000\n", 64));
  EXPECT_FALSE(signal_disposition_set("SigCgt:\t8000000000000000\n", 63));
}

TEST(SignalGrace, OutOfRangeOrMalformedIsNotSet) {
  EXPECT_FALSE(signal_disposition_set(kStatus, 0));
  EXPECT_FALSE(signal_disposition_set(kStatus, 65));
  EXPECT_FALSE(signal_disposition_set(kStatus, -1));
  EXPECT_FALSE(signal_disposition_set("", SIGTERM));
  EXPECT_FALSE(signal_disposition_set("SigCgt:\tzz\n", SIGTERM));
  EXPECT_FALSE(signal_disposition_set("SigCgt:\t\n", SIGTERM));
  EXPECT_FALSE(signal_disposition_set("SigCgtX:\tffffffffffffffff\n", SIGTERM));
  EXPECT_FALSE(signal_disposition_set("SigCgt:\t1ffffffffffffffff\n", SIGTERM));  // overflow
  EXPECT_TRUE(signal_disposition_set("SigCgt:\tffffffffffffffff", SIGTERM));      // no newline
}

TEST(SignalGrace, SettledNeedsTheHandlerAndASleepingProcess) {
  EXPECT_TRUE(settled_for_signal(kStatus, SIGTERM));
  EXPECT_FALSE(settled_for_signal(kStatus, SIGUSR1));  // no handler
  std::string running = kStatus;
  running.replace(running.find("S (sleeping)"), 12, "R (running)");
  EXPECT_FALSE(settled_for_signal(running, SIGTERM));
  EXPECT_FALSE(settled_for_signal("SigCgt:\t0000000000004000\n", SIGTERM));  // no State
}

}  // namespace
}  // namespace hull::engine
