#include "common/proc_stat.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace hull {
namespace {

// A line as the kernel writes it (52 fields, a trailing newline).
constexpr std::string_view kLine =
    "207 (a (b) c) S 1 205 205 34816 207 4194560 105 0 0 0 12 34 0 0 20 -5 3 0 1500 "
    "1699840 66 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

TEST(ProcStat, ReadsTheFieldsBothSidesUse) {
  auto st = parse_proc_stat(kLine, kProcStatStartTime);
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->pid, 207);
  EXPECT_EQ(st->comm, "a (b) c");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1);
  EXPECT_EQ(st->start_time, 1500u);
  EXPECT_EQ(st->nice, -5);
  EXPECT_EQ(st->processor, 1);
  EXPECT_EQ(st->fields, 52);
}

TEST(ProcStat, FieldsPastTheLineReadZeroUnlessNeeded) {
  auto st = parse_proc_stat("1 (sh) S 0 1 1 0 -1");
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->start_time, 0u);
  EXPECT_EQ(st->fields, 8);
  auto need = parse_proc_stat("1 (sh) S 0 1 1 0 -1", kProcStatStartTime);
  ASSERT_FALSE(need);
  EXPECT_EQ(need.error().code, Errc::Invalid);
  EXPECT_NE(need.error().msg.find("before field 22"), std::string::npos) << need.error().msg;
}

TEST(ProcStat, AFieldThatIsThereMustBeANumber) {
  auto st = parse_proc_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x 0");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().msg.find("field 22 (starttime)"), std::string::npos) << st.error().msg;
}

TEST(ProcStat, OwnProcessAndMissingOne) {
  auto st = read_proc_stat(::getpid(), kProcStatStartTime);
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->pid, ::getpid());
  EXPECT_GT(st->start_time, 0u);
  auto none = read_proc_stat(0);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::NotFound);
}

}  // namespace
}  // namespace hull
