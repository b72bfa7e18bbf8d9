// Choosing the accelerator: KVM only where /dev/kvm opens AND the CPU shows
// vmx/svm (these build machines have a /dev/kvm that runs only paravirtualized
// guests); otherwise TCG, with the reason so the user can be told once.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"
#include "runtime/config/config.h"

namespace hull::vm {

struct HostAccelFacts {
  bool kvm_opens = false;     // open("/dev/kvm", O_RDWR) succeeded
  std::string kvm_error;      // why it did not, when it did not
  bool cpu_has_virt = false;  // vmx or svm in /proc/cpuinfo flags
};

struct AccelChoice {
  config::Accel accel = config::Accel::Tcg;  // Kvm or Tcg, never Auto
  std::string reason;                        // one line: why this accelerator
};

// Said wherever hull runs a VM under TCG (hull check, the log of every
// create): QEMU's security guide does not treat TCG as a security boundary.
inline constexpr const char* kTcgNotABoundary =
    "TCG is not a security boundary (QEMU treats bugs reachable only under TCG as ordinary "
    "bugs): the jail around QEMU is what confines a guest (docs/security.md)";

// True when a "flags" line of /proc/cpuinfo text lists vmx or svm.
bool cpuinfo_has_virt(std::string_view cpuinfo);

// Reads /dev/kvm and /proc/cpuinfo.
HostAccelFacts probe_host_accel();

// Pure decision. `wanted` = kvm fails when KVM is unusable, naming why.
Result<AccelChoice> choose_accel(config::Accel wanted, const HostAccelFacts& facts);

}  // namespace hull::vm
