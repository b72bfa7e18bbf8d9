#include "runtime/vm/host_check.h"

#include <gtest/gtest.h>

namespace hull::vm {
namespace {

TEST(HostCheck, FormatsLevelNameDetailAndAdvice) {
  EXPECT_EQ(format_check_line({"qemu", CheckLevel::Ok, "/usr/bin/qemu: QEMU 7.2", ""}),
            "OK    qemu        /usr/bin/qemu: QEMU 7.2");
  EXPECT_EQ(format_check_line({"kernel", CheckLevel::Fail, "/x: No such file", "build it"}),
            "FAIL  kernel      /x: No such file (to fix: build it)");
}

TEST(HostCheck, MissingQemuIsAHardFailureNamingThePath) {
  config::Config cfg;
  cfg.hypervisor.path = "/nonexistent/qemu-system-x86_64";
  cfg.vm.kernel = "/nonexistent/vmlinux";
  auto lines = run_host_checks(cfg, "/nonexistent");
  EXPECT_TRUE(any_failed(lines));
  bool saw_qemu = false, saw_kernel = false;
  for (const auto& l : lines) {
    if (l.name == "qemu") {
      saw_qemu = true;
      EXPECT_EQ(l.level, CheckLevel::Fail);
      EXPECT_NE(l.detail.find("/nonexistent/qemu-system-x86_64"), std::string::npos);
      EXPECT_NE(l.advice.find("qemu-system-x86"), std::string::npos);
    }
    if (l.name == "kernel") {
      saw_kernel = true;
      EXPECT_EQ(l.level, CheckLevel::Fail);
    }
  }
  EXPECT_TRUE(saw_qemu);
  EXPECT_TRUE(saw_kernel);
}

TEST(HostCheck, RealQemuOnThisHost) {
  config::Config cfg;
  if (access(cfg.hypervisor.path.c_str(), X_OK) != 0) GTEST_SKIP() << "no QEMU installed";
  auto lines = run_host_checks(cfg, "/nonexistent");
  for (const auto& l : lines) {
    if (l.name == "qemu" || l.name == "microvm" || l.name == "vhost-user" || l.name == "memfd") {
      EXPECT_EQ(l.level, CheckLevel::Ok) << format_check_line(l);
    }
  }
}

TEST(HostCheck, MissingJailUserIsAHardFailureNamingIt) {
  config::Config cfg;
  cfg.jail.user = "no-such-jail-user";
  auto lines = run_host_checks(cfg, "/nonexistent");
  bool seen = false;
  for (const auto& l : lines) {
    if (l.name != "jail user") continue;
    seen = true;
    EXPECT_EQ(l.level, CheckLevel::Fail);
    EXPECT_NE(format_check_line(l).find("no-such-jail-user"), std::string::npos);
  }
  EXPECT_TRUE(seen);
  EXPECT_TRUE(any_failed(lines));
}

}  // namespace
}  // namespace hull::vm
