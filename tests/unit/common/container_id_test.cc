#include "common/container_id.h"

#include <gtest/gtest.h>

#include <string>

namespace hull {
namespace {

TEST(ContainerId, RuncRules) {
  for (const char* good : {"a", "abc-DEF_1.2+3", "0123456789abcdef", "..a", "a.."}) {
    EXPECT_TRUE(validate_container_id(good)) << good;
  }
  for (const char* bad : {"", ".", "..", "a/b", "../x", "a b", "a\nb", "\xc3\xa4", "a:b", "a*"}) {
    auto r = validate_container_id(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::Invalid);
    EXPECT_NE(r.error().what().find("invalid container ID format"), std::string::npos);
  }
  EXPECT_TRUE(validate_container_id(std::string(255, 'a')));
  EXPECT_FALSE(validate_container_id(std::string(256, 'a')));
}

// What the sandbox layout and the guest's engine refused before they shared
// this rule, though runc takes it: '+', ',' and a first character that is
// not alphanumeric.
TEST(ContainerId, WhatRuncTakesAndTheOtherCopiesRefused) {
  for (const char* good : {"a+b", "a,b", "-abc", "_x", ".hidden", "+", ","}) {
    EXPECT_TRUE(validate_container_id(good)) << good;
  }
}

TEST(ContainerId, ErrorNamesTheIdAndTheRule) {
  EXPECT_EQ(validate_container_id("a/b").error().msg,
            "invalid container ID format: \"a/b\": only letters, digits and _ + , - . are allowed");
  EXPECT_EQ(validate_container_id("..").error().msg,
            "invalid container ID format: \"..\": must not be \".\" or \"..\"");
}

}  // namespace
}  // namespace hull
