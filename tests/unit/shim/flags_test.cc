#include "shim/flags.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hull::shim {
namespace {

Result<ShimFlags> parse(std::vector<std::string> args) {
  return parse_flags(args);
}

TEST(ShimFlags, ContainerdStartLine) {
  auto f = parse({"-namespace", "k8s.io", "-address", "/run/containerd/containerd.sock",
                  "-publish-binary", "/usr/bin/containerd", "-id", "abc", "-debug", "start"});
  ASSERT_TRUE(f) << f.error().what();
  EXPECT_EQ(f->ns, "k8s.io");
  EXPECT_EQ(f->address, "/run/containerd/containerd.sock");
  EXPECT_EQ(f->publish_binary, "/usr/bin/containerd");
  EXPECT_EQ(f->id, "abc");
  EXPECT_TRUE(f->debug);
  EXPECT_EQ(f->action, "start");
}

TEST(ShimFlags, ContainerdDeleteLine) {
  auto f = parse({"-namespace", "default", "-address", "/a.sock", "-publish-binary", "/c", "-id",
                  "x", "-bundle", "/run/b/x", "delete"});
  ASSERT_TRUE(f) << f.error().what();
  EXPECT_EQ(f->bundle, "/run/b/x");
  EXPECT_EQ(f->action, "delete");
  EXPECT_FALSE(f->debug);
}

TEST(ShimFlags, DaemonLineHasNoAction) {
  auto f = parse({"-namespace", "n", "-id", "x", "-address", "/a", "-socket", "unix:///s/1"});
  ASSERT_TRUE(f) << f.error().what();
  EXPECT_EQ(f->action, "");
  EXPECT_EQ(f->socket, "unix:///s/1");
}

TEST(ShimFlags, GoSyntaxVariants) {
  auto f = parse({"--namespace=a", "-id=b=c", "-debug=false", "--v"});
  ASSERT_TRUE(f) << f.error().what();
  EXPECT_EQ(f->ns, "a");
  EXPECT_EQ(f->id, "b=c");
  EXPECT_FALSE(f->debug);
  EXPECT_TRUE(f->version);
}

TEST(ShimFlags, UnknownFlagsAreSkipped) {
  auto f = parse({"-future", "-other=1", "-id", "x", "start"});
  ASSERT_TRUE(f) << f.error().what();
  EXPECT_EQ(f->id, "x");
  EXPECT_EQ(f->action, "start");
  EXPECT_EQ(f->unknown, (std::vector<std::string>{"-future", "-other=1"}));
}

TEST(ShimFlags, ErrorsNameTheProblem) {
  auto missing = parse({"-id"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().msg, "flag -id needs a value");
  auto badbool = parse({"-debug=maybe"});
  ASSERT_FALSE(badbool);
  EXPECT_EQ(badbool.error().code, Errc::Invalid);
  EXPECT_NE(badbool.error().msg.find("\"maybe\""), std::string::npos);
  auto action = parse({"stop"});
  ASSERT_FALSE(action);
  EXPECT_NE(action.error().msg.find("unknown action \"stop\""), std::string::npos);
  auto two = parse({"start", "delete"});
  ASSERT_FALSE(two);
  EXPECT_NE(two.error().msg.find("after action \"start\""), std::string::npos);
  EXPECT_FALSE(parse({"-=x"}));
}

}  // namespace
}  // namespace hull::shim
