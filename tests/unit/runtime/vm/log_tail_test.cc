#include "runtime/vm/log_tail.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace hull::vm {
namespace {

TEST(LastLines, KeepsTheLastN) {
  EXPECT_EQ(last_lines("a\nb\nc\nd\n", 2), "c\nd");
  EXPECT_EQ(last_lines("a\nb\n", 5), "a\nb");
  EXPECT_EQ(last_lines("", 3), "");
  EXPECT_EQ(last_lines("single", 1), "single");
  EXPECT_EQ(last_lines("a\r\nb\r\n", 1), "b");
}

TEST(LastLines, BoundsBytesAndMasksControlBytes) {
  std::string big(10000, 'x');
  EXPECT_EQ(last_lines(big + "\nend", 3, 100).size(), 100u);
  EXPECT_EQ(last_lines(std::string("a\x1b[0mb\x01"), 1), "a?[0mb?");
}

TEST(TailFile, ReadsTheEndOrNothing) {
  std::string path = ::testing::TempDir() + "/log_tail_test.log";
  {
    std::ofstream f(path);
    for (int i = 0; i < 1000; ++i) f << "line " << i << "\n";
  }
  EXPECT_EQ(tail_file(path, 2), "line 998\nline 999");
  EXPECT_EQ(tail_file(path + ".missing", 2), "");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace hull::vm
