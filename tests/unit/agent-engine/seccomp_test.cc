// Profile compilation (no loading here; container_test.cc runs filtered
// containers).
#include "agent/engine/seccomp.h"

#include <gtest/gtest.h>
#include <linux/filter.h>

#include "common/file.h"

namespace hull::engine {
namespace {

oci::Seccomp docker_default() {
  auto text =
      read_file(std::string(HULL_SOURCE_DIR) + "/tests/data/seccomp/docker-default.json", 1 << 20);
  EXPECT_TRUE(text);
  std::string spec =
      "{\"ociVersion\":\"1.1.0\",\"linux\":{\"seccomp\":" + text.value_or("{}") + "}}";
  auto s = oci::parse_spec(spec, "docker-default.json");
  EXPECT_TRUE(s) << (s ? "" : s.error().what());
  return s ? *s->linux->seccomp : oci::Seccomp{};
}

oci::Seccomp deny_mkdir() {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  oci::Syscall sc;
  sc.names = {"mkdir", "mkdirat"};
  sc.action = "SCMP_ACT_ERRNO";
  p.syscalls = std::vector<oci::Syscall>{sc};
  return p;
}

TEST(Seccomp, DockerDefaultCompiles) {
  auto prog = compile_seccomp(docker_default());
  ASSERT_TRUE(prog) << prog.error().what();
  EXPECT_GT(prog->bpf.size(), 100 * sizeof(sock_filter));
  EXPECT_EQ(prog->bpf.size() % sizeof(sock_filter), 0u);
  EXPECT_EQ(prog->flags, 0u);
}

TEST(Seccomp, SimpleRuleAndFlags) {
  oci::Seccomp p = deny_mkdir();
  p.flags = std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto prog = compile_seccomp(p);
  ASSERT_TRUE(prog) << prog.error().what();
  EXPECT_EQ(prog->flags, 6u);  // LOG (2) | SPEC_ALLOW (4)
}

TEST(Seccomp, UnknownSyscallNamesAreSkipped) {
  oci::Seccomp p = deny_mkdir();
  (*p.syscalls)[0].names.push_back("no_such_syscall_yet");
  EXPECT_TRUE(compile_seccomp(p));
}

TEST(Seccomp, RuleRepeatingTheDefaultIsSkipped) {
  oci::Seccomp p = deny_mkdir();
  (*p.syscalls)[0].action = "SCMP_ACT_ALLOW";
  EXPECT_TRUE(compile_seccomp(p));
}

TEST(Seccomp, SameArgumentTwiceIsAnOr) {
  oci::Seccomp p = deny_mkdir();
  oci::SeccompArg a{1, 0700, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()};
  oci::SeccompArg b{1, 0755, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()};
  (*p.syscalls)[0].names = {"mkdir"};
  (*p.syscalls)[0].args = std::vector<oci::SeccompArg>{a, b};
  EXPECT_TRUE(
      compile_seccomp(p));  // libseccomp alone would refuse two conditions on arg 1 in one rule
}

std::string error_of(const oci::Seccomp& p) {
  auto r = compile_seccomp(p);
  return r ? std::string("no error") : r.error().msg;
}

TEST(Seccomp, ErrorsNameTheField) {
  oci::Seccomp p = deny_mkdir();
  p.default_action = "SCMP_ACT_MAYBE";
  EXPECT_EQ(error_of(p), "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_MAYBE\"");
  p = deny_mkdir();
  p.default_errno_ret = 5;
  EXPECT_EQ(error_of(p),
            "linux.seccomp.defaultAction: an errno return value needs SCMP_ACT_ERRNO or "
            "SCMP_ACT_TRACE, not SCMP_ACT_ALLOW");
  p = deny_mkdir();
  p.architectures = std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
  EXPECT_EQ(error_of(p), "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"");
  p = deny_mkdir();
  p.flags = std::vector<std::string>{"SECCOMP_FILTER_FLAG_BOGUS"};
  EXPECT_EQ(error_of(p), "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"");
  p = deny_mkdir();
  (*p.syscalls)[0].args =
      std::vector<oci::SeccompArg>{{0, 1, std::nullopt, "SCMP_CMP_ABOUT", oci::Json::object()}};
  EXPECT_EQ(error_of(p),
            "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ABOUT\"");
  p = deny_mkdir();
  (*p.syscalls)[0].args =
      std::vector<oci::SeccompArg>{{6, 1, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()}};
  EXPECT_EQ(error_of(p), "linux.seccomp.syscalls[0].args[0].index: must be less than 6");
  p = deny_mkdir();
  (*p.syscalls)[0].action = "SCMP_ACT_NOTIFY";
  auto r = compile_seccomp(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Unsupported);
}

TEST(Seccomp, Hex) {
  std::string raw("\x00\x7f\x80\xff", 4);
  auto back = hex_decode(hex_encode(raw));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, raw);
  EXPECT_FALSE(hex_decode("abc"));
  EXPECT_FALSE(hex_decode("zz"));
}

}  // namespace
}  // namespace hull::engine
