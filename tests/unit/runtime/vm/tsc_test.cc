#include "runtime/vm/tsc.h"

#include <cstdio>

#include <gtest/gtest.h>

namespace hull::vm {
namespace {

TEST(Tsc, SysfsFile) {
  EXPECT_EQ(parse_sysfs_tsc_khz("2300000\n"), 2300000u);
  EXPECT_EQ(parse_sysfs_tsc_khz(" 3187200 "), 3187200u);
  EXPECT_EQ(parse_sysfs_tsc_khz(""), std::nullopt);
  EXPECT_EQ(parse_sysfs_tsc_khz("abc"), std::nullopt);
  EXPECT_EQ(parse_sysfs_tsc_khz("2300000 kHz"), std::nullopt);
  EXPECT_EQ(parse_sysfs_tsc_khz("0"), std::nullopt);         // implausible
  EXPECT_EQ(parse_sysfs_tsc_khz("99000000"), std::nullopt);  // 99 GHz
}

TEST(Tsc, KernelLogPrefersTheRefinedCalibration) {
  const char* log =
      "Linux version 6.1.0-28-amd64\n"
      "tsc: Detected 2300.000 MHz processor\n"
      "clocksource: tsc-early: mask: 0xffffffffffffffff\n"
      "tsc: Refined TSC clocksource calibration: 2299.998 MHz\n"
      "clocksource: Switched to clocksource tsc\n";
  EXPECT_EQ(parse_kernel_log_tsc_khz(log), 2299998u);
}

TEST(Tsc, KernelLogDetectedLineAlone) {
  // This machine's log: "tsc: Detected 2300.000 MHz processor" (tsc_known_freq, no refinement).
  EXPECT_EQ(parse_kernel_log_tsc_khz("x\ntsc: Detected 2300.000 MHz processor\ny\n"), 2300000u);
  EXPECT_EQ(parse_kernel_log_tsc_khz("tsc: Detected 1996.2 MHz TSC\n"), 1996200u);
  EXPECT_EQ(parse_kernel_log_tsc_khz("tsc: Detected 3000 MHz processor"), 3000000u);
}

TEST(Tsc, KernelLogWithoutATscLine) {
  EXPECT_EQ(parse_kernel_log_tsc_khz(""), std::nullopt);
  EXPECT_EQ(parse_kernel_log_tsc_khz("tsc: Marking TSC unstable due to clocksource watchdog\n"),
            std::nullopt);
  EXPECT_EQ(parse_kernel_log_tsc_khz("tsc: Detected garbage\n"), std::nullopt);
  EXPECT_EQ(parse_kernel_log_tsc_khz("tsc: Detected 2300.000 processor\n"), std::nullopt);
}

TEST(Tsc, CpuinfoNeedsConstantTsc) {
  const char* with =
      "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\ncpu MHz\t\t: 2300.000\n"
      "flags\t\t: fpu vme tsc constant_tsc nonstop_tsc tsc_known_freq\n";
  EXPECT_EQ(parse_cpuinfo_tsc_khz(with), 2300000u);
  const char* without =
      "processor\t: 0\ncpu MHz\t\t: 2300.000\nflags\t\t: fpu vme tsc nonstop_tsc\n";
  EXPECT_EQ(parse_cpuinfo_tsc_khz(without), std::nullopt);
  EXPECT_EQ(parse_cpuinfo_tsc_khz("flags\t\t: constant_tsc\n"), std::nullopt);  // no cpu MHz
}

TEST(Tsc, FromInterval) {
  EXPECT_EQ(tsc_khz_from_interval(115'000'000, 50'000'000), 2300000u);
  EXPECT_EQ(tsc_khz_from_interval(1, 0), std::nullopt);
  EXPECT_EQ(tsc_khz_from_interval(1000, 50'000'000), std::nullopt);  // 20 kHz: implausible
}

TEST(Tsc, HostRateIsFoundOnThisMachine) {
  auto rate = host_tsc_rate();
  if (!rate && rate.error().code == Errc::Unsupported) GTEST_SKIP() << rate.error().what();
  ASSERT_TRUE(rate) << rate.error().what();
  EXPECT_GE(rate->khz, 100'000u);
  EXPECT_FALSE(rate->source.empty());
  std::printf("host TSC: %llu kHz (%s)\n", static_cast<unsigned long long>(rate->khz),
              rate->source.c_str());
}

}  // namespace
}  // namespace hull::vm
