#include "common/error_json.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace hull {
namespace {

TEST(ErrorJson, TheOneFormCarriesTheCodeByName) {
  const Error e{Errc::NotFound, ENOENT, "exec: \"x\": not found"};
  const auto j = error_to_json(e);
  EXPECT_EQ(j["code"], "not found");
  EXPECT_EQ(j["errno"], ENOENT);
  EXPECT_EQ(j["msg"], e.msg);
  const Error back = error_from_json(j, "test");
  EXPECT_EQ(back.code, e.code);
  EXPECT_EQ(back.sys_errno, e.sys_errno);
  EXPECT_EQ(back.msg, e.msg);
}

TEST(ErrorJson, EveryCodeRoundTrips) {
  for (int i = 0; i <= static_cast<int>(Errc::Internal); ++i) {
    const auto c = static_cast<Errc>(i);
    EXPECT_EQ(errc_from_name(errc_name(c)), c);
    EXPECT_EQ(error_from_json(error_to_json(Error{c, 0, "m"}), "test").code, c);
  }
}

TEST(ErrorJson, MalformedIsAProtocolErrorNamingTheChannel) {
  for (const char* text : {R"("text")", R"({"code":3,"errno":0,"msg":"old integer form"})",
                           R"({"code":"invalid","msg":"no errno"})", R"({})", "null"}) {
    const Error e = error_from_json(nlohmann::json::parse(text), "sync from init");
    EXPECT_EQ(e.code, Errc::GuestProtocol) << text;
    EXPECT_EQ(e.msg, "sync from init: malformed error (want code, errno and msg)") << text;
  }
}

TEST(ErrorJson, UnknownNameIsInternalAndAnErrnoOutOfRangeIsDropped) {
  const Error e = error_from_json(
      nlohmann::json{{"code", "galactic"}, {"errno", 70000}, {"msg", "from a newer peer"}}, "t");
  EXPECT_EQ(e.code, Errc::Internal);
  EXPECT_EQ(e.sys_errno, 0);
  EXPECT_EQ(e.msg, "from a newer peer");
}

}  // namespace
}  // namespace hull
