#include <gtest/gtest.h>

#include "runtime/vsock/connect_line.h"

namespace hull::vsock {
namespace {

TEST(ConnectLine, Accepts) {
  EXPECT_EQ(*parse_connect_line("CONNECT 1024"), 1024u);
  EXPECT_EQ(*parse_connect_line("connect 52"), 52u);
  EXPECT_EQ(*parse_connect_line("  Connect\t4294967295 "), 4294967295u);
  EXPECT_EQ(*parse_connect_line("CONNECT 0"), 0u);
}

TEST(ConnectLine, Syntax) {
  for (const char* bad : {"", "CONNECT", "LISTEN 1024", "CONNECT 1024 extra", "CONNECTX 1"}) {
    auto r = parse_connect_line(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, FaultKind::ConnectLineSyntax) << bad;
  }
}

TEST(ConnectLine, BadPort) {
  for (const char* bad : {"CONNECT -1", "CONNECT 4294967296", "CONNECT 12ab", "CONNECT 0x10"}) {
    auto r = parse_connect_line(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, FaultKind::ConnectBadPort) << bad;
  }
}

TEST(ConnectLine, TooLong) {
  auto r = parse_connect_line("CONNECT                    1024");  // 31 + newline = 32: ok
  EXPECT_TRUE(r);
  auto l = parse_connect_line("CONNECT                     1024");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().kind, FaultKind::ConnectLineTooLong);
  EXPECT_EQ(l.error().a, 33u);
  EXPECT_EQ(l.error().b, 32u);
}

}  // namespace
}  // namespace hull::vsock
