// The host's TSC rate, for the guest kernel command line under TCG: `tsc_early_khz=<kHz>`.
//
// Under TCG the guest's TSC runs at the host's rate, and microvm has no HPET or PM timer, so
// the guest's own PIT-based calibration fails in 15-20% of boots and with ACPI on the boot
// then hangs. Telling the kernel the rate removed every hang in 298 measured boots.
// Under KVM the guest gets the rate from the hypervisor; do not pass it.
//
// Sources, first that works wins:
//   1. /sys/devices/system/cpu/cpu0/tsc_freq_khz  (some kernels export the rate)
//   2. the kernel log (/dev/kmsg): "tsc: Refined TSC clocksource calibration: X MHz", else
//      "tsc: Detected X MHz processor" / "X MHz TSC"; the boot lines can be rotated out
//   3. a measurement: rdtsc against CLOCK_MONOTONIC_RAW over 50 ms (constant_tsc only)
//   4. /proc/cpuinfo "cpu MHz" (constant_tsc only; on hosts with frequency scaling this is
//      the current core clock, which is why it comes last)
// On the build machines (KVM guests, no sysfs file, CPUID leaves 0x15/0x16 empty) 2 works
// while the boot lines are in the log, and 3 always.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace hull::vm {

struct TscRate {
  uint64_t khz = 0;
  std::string source;  // "sysfs", "kernel log", "measured", "cpuinfo"
};

// Each parser is pure and returns nullopt when the text does not give a plausible rate
// (100 MHz to 10 GHz).
std::optional<uint64_t> parse_sysfs_tsc_khz(std::string_view text);
std::optional<uint64_t> parse_kernel_log_tsc_khz(std::string_view log);
std::optional<uint64_t> parse_cpuinfo_tsc_khz(std::string_view cpuinfo);

// rdtsc ticks over a CLOCK_MONOTONIC_RAW interval -> kHz. Pure.
std::optional<uint64_t> tsc_khz_from_interval(uint64_t ticks, uint64_t nanoseconds);

// Tries the sources in order. Errc::Unsupported when the host has no constant TSC and neither
// the sysfs file nor the kernel log gives a rate.
Result<TscRate> host_tsc_rate();

}  // namespace hull::vm
