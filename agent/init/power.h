// Powering the guest off: the one way the agent ends. PID 1 must never exit (the kernel
// panics), so every end, requested or fatal, goes through here.
#pragma once

#include <string_view>

namespace hull::agent::init {

// Logs `reason`, syncs, and powers the VM off (reboot(RB_POWER_OFF); with ACPI on, QEMU then
// exits with status 0). If the kernel refuses, exits: as PID 1 that panics the guest, and with
// panic=-1 and QEMU's -no-reboot the VM still ends instead of hanging.
[[noreturn]] void power_off(std::string_view reason);

// The same after a fatal error: logs "fatal: <why>" at error level first.
[[noreturn]] void power_off_fatal(std::string_view why);

}  // namespace hull::agent::init
