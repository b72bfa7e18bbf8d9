// Shared by the agent_reply*_test.cc files.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"

namespace hull::sandbox {

// The error of a refused reply: GuestProtocol, its text containing `what`.
template <class T>
void expect_refused(const Result<T>& r, const std::string& what) {
  ASSERT_FALSE(r) << "accepted, expected: " << what;
  EXPECT_EQ(r.error().code, Errc::GuestProtocol) << r.error().what();
  EXPECT_THAT(r.error().msg, ::testing::HasSubstr(what));
}

}  // namespace hull::sandbox
