#include "runtime/vm/accel.h"

#include <gtest/gtest.h>

namespace hull::vm {
namespace {

using config::Accel;

TEST(Accel, CpuinfoFlags) {
  EXPECT_TRUE(cpuinfo_has_virt("processor\t: 0\nflags\t\t: fpu vme vmx sse\n"));
  EXPECT_TRUE(cpuinfo_has_virt("flags\t\t: fpu svm\n"));
  EXPECT_FALSE(cpuinfo_has_virt("flags\t\t: fpu vme hypervisor sse\n"));
  EXPECT_FALSE(cpuinfo_has_virt("model name\t: vmx svm\nflags : fpu\n"));  // only flags count
  EXPECT_FALSE(cpuinfo_has_virt("flags\t\t: fpu vmxe\n"));                 // whole words
  EXPECT_FALSE(cpuinfo_has_virt(""));
}

TEST(Accel, AutoPicksKvmOnlyWithBothFacts) {
  HostAccelFacts good{true, "", true};
  EXPECT_EQ(choose_accel(Accel::Auto, good)->accel, Accel::Kvm);

  HostAccelFacts no_flags{true, "", false};  // these build machines: /dev/kvm opens, no vmx
  auto c = choose_accel(Accel::Auto, no_flags);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->accel, Accel::Tcg);
  EXPECT_NE(c->reason.find("no vmx/svm"), std::string::npos);

  HostAccelFacts no_dev{false, "/dev/kvm: No such file or directory", true};
  c = choose_accel(Accel::Auto, no_dev);
  EXPECT_EQ(c->accel, Accel::Tcg);
  EXPECT_NE(c->reason.find("/dev/kvm: No such file"), std::string::npos);
}

TEST(Accel, ForcedKvmFailsWithReason) {
  auto c = choose_accel(Accel::Kvm, HostAccelFacts{true, "", false});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::Unsupported);
  EXPECT_NE(c.error().what().find("set hypervisor.accel to auto or tcg"), std::string::npos);
}

TEST(Accel, ForcedTcgAlwaysWorks) {
  EXPECT_EQ(choose_accel(Accel::Tcg, HostAccelFacts{true, "", true})->accel, Accel::Tcg);
}

}  // namespace
}  // namespace hull::vm
