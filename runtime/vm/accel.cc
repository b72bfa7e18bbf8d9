#include "runtime/vm/accel.h"

#include <fcntl.h>

#include <cstring>
#include <sstream>

#include "common/file.h"
#include "common/unique_fd.h"

namespace hull::vm {

bool cpuinfo_has_virt(std::string_view cpuinfo) {
  std::istringstream in{std::string(cpuinfo)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream words(line.substr(colon + 1));
    std::string w;
    while (words >> w) {
      if (w == "vmx" || w == "svm") return true;
    }
  }
  return false;
}

HostAccelFacts probe_host_accel() {
  HostAccelFacts f;
  UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  f.kvm_opens = kvm.valid();
  if (!f.kvm_opens) f.kvm_error = std::string("/dev/kvm: ") + std::strerror(errno);
  if (auto text = read_file("/proc/cpuinfo", 16 << 20)) f.cpu_has_virt = cpuinfo_has_virt(*text);
  return f;
}

Result<AccelChoice> choose_accel(config::Accel wanted, const HostAccelFacts& f) {
  bool usable = f.kvm_opens && f.cpu_has_virt;
  std::string why_not;
  if (!f.kvm_opens) {
    why_not = f.kvm_error.empty() ? "/dev/kvm cannot be opened" : f.kvm_error;
  } else if (!f.cpu_has_virt) {
    why_not = "/dev/kvm opens but the CPU shows no vmx/svm flag (nested or paravirtual-only KVM)";
  }
  switch (wanted) {
    case config::Accel::Tcg:
      return AccelChoice{config::Accel::Tcg, "TCG: hypervisor.accel is set to tcg"};
    case config::Accel::Kvm:
      if (!usable) {
        return fail(Errc::Unsupported, "hypervisor.accel is kvm but KVM is not usable: " + why_not +
                                           "; set hypervisor.accel to auto or tcg");
      }
      return AccelChoice{config::Accel::Kvm, "KVM: /dev/kvm opens and the CPU has vmx/svm"};
    case config::Accel::Auto:
      if (usable)
        return AccelChoice{config::Accel::Kvm, "KVM: /dev/kvm opens and the CPU has vmx/svm"};
      return AccelChoice{config::Accel::Tcg, "TCG (software emulation, slower): " + why_not};
  }
  return fail(Errc::Internal, "unknown accelerator setting");
}

}  // namespace hull::vm
