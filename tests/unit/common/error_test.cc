#include "common/error.h"

#include <gtest/gtest.h>

namespace hull {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return fail(Errc::Invalid, "must be positive");
  return v;
}

Result<int> twice(int v) {
  HULL_ASSIGN(x, parse_positive(v));
  return 2 * x;
}

TEST(Error, WrapAddsContextInFront) {
  Error e{Errc::System, ENOENT, "open /x"};
  Error w = std::move(e).wrap("starting virtiofsd");
  EXPECT_EQ(w.what(), "starting virtiofsd: open /x: No such file or directory");
  EXPECT_EQ(w.code, Errc::System);
}

TEST(Error, AssignPropagates) {
  EXPECT_EQ(*twice(3), 6);
  auto r = twice(-1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Invalid);
  EXPECT_EQ(r.error().what(), "must be positive");
}

TEST(Error, Retryable) {
  EXPECT_TRUE((Error{Errc::System, ECONNREFUSED, ""}.retryable()));
  EXPECT_TRUE((Error{Errc::Timeout, 0, ""}.retryable()));
  EXPECT_FALSE((Error{Errc::Invalid, 0, ""}.retryable()));
  EXPECT_FALSE((Error{Errc::System, EACCES, ""}.retryable()));
}

}  // namespace
}  // namespace hull
