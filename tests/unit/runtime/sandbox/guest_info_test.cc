// The agent's /proc/meminfo parser (agent/rpc/guest_info), tested beside the
// client that reads its answers.
#include "agent/rpc/guest_info.h"

#include <gtest/gtest.h>

namespace hull::agent::rpc {
namespace {

TEST(ParseMeminfo, TotalAndAvailable) {
  auto m = parse_meminfo(
      "MemTotal:         246812 kB\nMemFree:          200000 kB\nMemAvailable:     210000 kB\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->total_kib, 246812u);
  EXPECT_EQ(m->available_kib, 210000u);
}

TEST(ParseMeminfo, PagesNotYetWrittenBack) {
  auto m = parse_meminfo(
      "MemTotal: 1024 kB\nDirty:               12 kB\nWriteback:             4 kB\n"
      "AnonPages: 9 kB\nWritebackTmp:          8 kB\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->dirty_kib, 12u);
  EXPECT_EQ(m->writeback_kib, 4u);
  EXPECT_EQ(m->writeback_tmp_kib, 8u);
  auto clean = parse_meminfo("MemTotal: 1024 kB\n");
  ASSERT_TRUE(clean);
  EXPECT_EQ(clean->dirty_kib + clean->writeback_kib + clean->writeback_tmp_kib, 0u);
}

TEST(ParseMeminfo, AvailableIsOptional) {
  auto m = parse_meminfo("MemTotal: 1024 kB");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->total_kib, 1024u);
  EXPECT_EQ(m->available_kib, 0u);
}

TEST(ParseMeminfo, MissingOrMalformedTotal) {
  EXPECT_FALSE(parse_meminfo(""));
  EXPECT_FALSE(parse_meminfo("MemFree: 3 kB\n"));
  EXPECT_FALSE(parse_meminfo("MemTotal: lots\n"));
  EXPECT_FALSE(parse_meminfo("MemTotal: 12 MB\n"));
  EXPECT_EQ(parse_meminfo("").error().code, Errc::Invalid);
}

TEST(Boottime, Advances) {
  uint64_t a = boottime_ns();
  uint64_t b = boottime_ns();
  EXPECT_GT(a, 0u);
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace hull::agent::rpc
