#include "agent/init/cmdline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hull::agent::init {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Pair = std::pair<std::string, std::string>;

TEST(SplitCmdline, LikeTheKernel) {
  EXPECT_THAT(split_cmdline("console=ttyS0 quiet  panic=-1\n"),
              ElementsAre(Pair{"console", "ttyS0"}, Pair{"quiet", ""}, Pair{"panic", "-1"}));
  EXPECT_THAT(split_cmdline("a=\"x y\" \"b=c d\" e=f=g"),
              ElementsAre(Pair{"a", "x y"}, Pair{"b", "c d"}, Pair{"e", "f=g"}));
  EXPECT_THAT(split_cmdline(""), ElementsAre());
  EXPECT_THAT(split_cmdline("  \t\n"), ElementsAre());
  EXPECT_THAT(split_cmdline("a=\"unterminated b"), ElementsAre(Pair{"a", "unterminated b"}));
}

TEST(ParseCmdline, DefaultsWithoutHullParameters) {
  auto r = parse_cmdline("console=ttyS0 quiet panic=-1 noreplace-smp tsc_early_khz=2300000\n");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->config.log_level, log::Level::Info);
  EXPECT_EQ(r->config.port, 1024u);
  EXPECT_FALSE(r->config.debug_shell);
  EXPECT_EQ(r->config.test, TestAction::None);
  EXPECT_TRUE(r->unknown.empty());
}

TEST(ParseCmdline, EveryKnownSetting) {
  auto r = parse_cmdline(
      "console=ttyS0 hull.log=debug hull.port=2048 hull.debug_shell=1 hull.test=poweroff\n");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->config.log_level, log::Level::Debug);
  EXPECT_EQ(r->config.port, 2048u);
  EXPECT_TRUE(r->config.debug_shell);
  EXPECT_EQ(r->config.test, TestAction::PowerOff);
}

TEST(ParseCmdline, LaterValuesWinAndBooleansHaveSpellings) {
  auto r = parse_cmdline(
      "hull.log=error hull.log=warn hull.debug_shell hull.test=poweroff "
      "hull.test=none");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->config.log_level, log::Level::Warn);
  EXPECT_TRUE(r->config.debug_shell);
  EXPECT_EQ(r->config.test, TestAction::None);
  for (const char* off : {"0", "no", "off", "false", "n"}) {
    auto o = parse_cmdline(std::string("hull.debug_shell=") + off);
    ASSERT_TRUE(o) << off;
    EXPECT_FALSE(o->config.debug_shell) << off;
  }
}

TEST(ParseCmdline, UnknownHullKeysAreReturnedNotFatal) {
  auto r = parse_cmdline("hull.future=1 hull.flag quiet hullx=1");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->unknown, ElementsAre("hull.future=1", "hull.flag"));
}

TEST(ParseCmdline, BadValuesOfKnownKeysAreErrors) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"hull.log=verbose", "hull.log=verbose: expected debug, info, warn or error"},
      {"hull.log=", "hull.log=: expected"},
      {"hull.port=0", "hull.port=0: expected a vsock port from 1 to 4294967294"},
      {"hull.port=4294967295", "hull.port=4294967295: expected a vsock port"},
      {"hull.port=4294967296", "hull.port=4294967296: expected a vsock port"},
      {"hull.port=12ab", "hull.port=12ab"},
      {"hull.port=-1", "hull.port=-1"},
      {"hull.port=", "hull.port=: expected"},
      {"hull.debug_shell=maybe", "hull.debug_shell=maybe: expected 1 or 0"},
      {"hull.test=reboot", "hull.test=reboot: expected poweroff or none"},
  };
  for (const Case& c : cases) {
    auto r = parse_cmdline(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, Errc::Invalid);
    EXPECT_THAT(r.error().what(), HasSubstr(c.error)) << c.text;
  }
}

TEST(ParseCmdline, RefusesOversizedText) {
  auto r = parse_cmdline(std::string(kMaxCmdlineBytes + 1, 'a'));
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().what(), HasSubstr("longer than the limit"));
}

}  // namespace
}  // namespace hull::agent::init
