#include "common/text.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "common/mac.h"

namespace hull {
namespace {

TEST(Trim, DropsBlanksAtBothEndsOnly) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim("max\n"), "max");
  EXPECT_EQ(trim(" \n\t"), "");
  EXPECT_EQ(trim(""), "");
}

TEST(Split, KeepsEmptyFields) {
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(split("", ','), (std::vector<std::string_view>{""}));
  EXPECT_EQ(split("/a/", '/'), (std::vector<std::string_view>{"", "a", ""}));
}

TEST(ParseNumber, TheWholeStringOrNothing) {
  uint64_t u = 0;
  EXPECT_TRUE(parse_number("18446744073709551615", &u));
  EXPECT_EQ(u, UINT64_MAX);
  EXPECT_FALSE(parse_number("18446744073709551616", &u));  // out of range
  EXPECT_FALSE(parse_number("", &u));
  EXPECT_FALSE(parse_number("12x", &u));
  EXPECT_FALSE(parse_number(" 12", &u));
  EXPECT_FALSE(parse_number("-1", &u));
  int32_t i = 0;
  EXPECT_TRUE(parse_number("-5", &i));
  EXPECT_EQ(i, -5);
}

TEST(ParseNumber, InAnotherBase) {
  uint64_t u = 0;
  EXPECT_TRUE(parse_number("00000000000001fF", &u, 16));  // a /proc signal mask
  EXPECT_EQ(u, 0x1ffu);
  EXPECT_FALSE(parse_number("0x1f", &u, 16));
  EXPECT_FALSE(parse_number("1g", &u, 16));
  EXPECT_FALSE(parse_number("", &u, 16));
}

TEST(HexDigit, BothCases) {
  EXPECT_EQ(hex_digit('0'), 0);
  EXPECT_EQ(hex_digit('a'), 10);
  EXPECT_EQ(hex_digit('F'), 15);
  EXPECT_EQ(hex_digit('g'), -1);
  EXPECT_EQ(hex_digit(':'), -1);
}

TEST(Mac, ParseAndFormat) {
  auto m = parse_mac("02:42:AC:11:00:02");
  ASSERT_TRUE(m) << m.error().what();
  EXPECT_EQ(format_mac(*m), "02:42:ac:11:00:02");
  EXPECT_EQ(format_mac({}), "");
  for (const char* bad : {"02:42:ac:11:00", "02-42-ac-11-00-02", "02:42:ac:11:00:0g", ""}) {
    auto r = parse_mac(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::Invalid);
  }
}

}  // namespace
}  // namespace hull
