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

// Just after a rotation the current file is short: the tail goes on in <path>.1.
TEST(TailFile, ReadsAcrossARotation) {
  std::string path = ::testing::TempDir() + "/log_tail_ring.log";
  std::ofstream(path + ".1") << "old 1\nold 2\nold 3\n";
  std::ofstream(path) << "new 1\n";
  EXPECT_EQ(tail_file(path, 3), "old 2\nold 3\nnew 1");
  EXPECT_EQ(ring_tail_bytes(path, 9), " 3\nnew 1\n");
  EXPECT_EQ(ring_tail_bytes(path, 4), "w 1\n");
  std::remove(path.c_str());
  EXPECT_EQ(tail_file(path, 1), "old 3");  // the current half is missing
  std::remove((path + ".1").c_str());
}

}  // namespace
}  // namespace hull::vm
