#include "agent/init/init.h"

#include <gtest/gtest.h>

namespace hull::agent::init {
namespace {

TEST(ReadyLine, SecondsWithThreeDecimalsTruncated) {
  EXPECT_EQ(ready_line({0, 384'999'999}), "hull-agent ready 0.384");
  EXPECT_EQ(ready_line({12, 5'000'000}), "hull-agent ready 12.005");
  EXPECT_EQ(ready_line({0, 0}), "hull-agent ready 0.000");
}

}  // namespace
}  // namespace hull::agent::init
