#include "runtime/container/sizing.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "common/file.h"

namespace hull::container {
namespace {

std::optional<uint64_t> to_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<uint32_t> count_cpuset(std::string_view list) {
  auto bad = [&] {
    return fail(Errc::Invalid, "linux.resources.cpu.cpus: \"" + std::string(list) +
                                   "\" is not a CPU list like \"0-3,8\"");
  };
  uint64_t total = 0;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    auto dash = item.find('-');
    auto lo = to_u64(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : to_u64(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo || *hi > 65535) return bad();
    total += *hi - *lo + 1;
  }
  if (total == 0) return bad();
  return static_cast<uint32_t>(total);
}

VmCaps vm_caps(const config::Vm& vm) {
  VmCaps caps;
  if (vm.max_vcpus != 0) {
    caps.vcpus = vm.max_vcpus;
  } else if (long n = ::sysconf(_SC_NPROCESSORS_ONLN); n > 0) {
    caps.vcpus = static_cast<uint32_t>(std::min<long>(n, kMaxVcpus));
  }
  if (vm.max_memory_mib != 0) {
    caps.memory_mib = vm.max_memory_mib;
  } else if (auto meminfo = read_file("/proc/meminfo", 1 << 16)) {
    // "MemTotal:       16318212 kB"
    std::string_view m = *meminfo;
    if (m.starts_with("MemTotal:")) {
      m.remove_prefix(9);
      while (!m.empty() && m.front() == ' ') m.remove_prefix(1);
      auto kb = to_u64(m.substr(0, m.find(' ')));
      if (kb && *kb / 1024 >= kMinMemoryMiB) {
        caps.memory_mib = static_cast<uint32_t>(std::min<uint64_t>(*kb / 1024, kMaxMemoryMiB));
      }
    }
  }
  return caps;
}

uint64_t host_memory_limit_bytes(uint32_t memory_mib) {
  return (static_cast<uint64_t>(memory_mib) + kHostMemoryOverheadMiB) << 20;
}

Result<VmSize> vm_size(const oci::Spec& spec, const config::Vm& defaults) {
  return vm_size(spec, defaults, vm_caps(defaults));
}

Result<VmSize> vm_size(const oci::Spec& spec, const config::Vm& defaults, const VmCaps& caps) {
  VmSize size{defaults.vcpus, defaults.memory_mib};
  const oci::Resources* r = spec.linux && spec.linux->resources ? &*spec.linux->resources : nullptr;
  if (r && r->cpu) {
    const oci::Cpu& c = *r->cpu;
    if (c.quota && *c.quota > 0 && c.period && *c.period > 0) {
      uint64_t q = static_cast<uint64_t>(*c.quota);
      size.vcpus =
          static_cast<uint32_t>(std::min<uint64_t>((q + *c.period - 1) / *c.period, kMaxVcpus));
    } else if (c.cpus && !c.cpus->empty()) {
      HULL_ASSIGN(n, count_cpuset(*c.cpus));
      size.vcpus = std::min(n, kMaxVcpus);
    }
  }
  if (r && r->memory && r->memory->limit && *r->memory->limit > 0) {
    uint64_t mib = (static_cast<uint64_t>(*r->memory->limit) + (1 << 20) - 1) >> 20;
    mib += kGuestMemoryOverheadMiB;
    size.memory_mib =
        static_cast<uint32_t>(std::clamp<uint64_t>(mib, kMinMemoryMiB, kMaxMemoryMiB));
  }
  size.vcpus = std::min(size.vcpus, caps.vcpus);
  size.memory_mib = std::min(size.memory_mib, caps.memory_mib);
  if (spec.annotations) {
    for (const auto& [key, value] : *spec.annotations) {
      if (!key.starts_with("io.hull.")) continue;
      auto bad = [&](const std::string& rule) {
        return fail(Errc::Invalid,
                    "config.json: annotations." + key + ": \"" + value + "\": " + rule);
      };
      if (key != kAnnotationVcpus && key != kAnnotationMemoryMib) {
        return bad(std::string("unknown hull annotation; known: ") + kAnnotationVcpus + ", " +
                   kAnnotationMemoryMib);
      }
      if (std::find(defaults.allowed_annotations.begin(), defaults.allowed_annotations.end(),
                    key) == defaults.allowed_annotations.end()) {
        return bad("this host does not allow the annotation " + key +
                   " (hull's config vm.allowed_annotations does not list it): remove it, or "
                   "have the host's administrator add it there");
      }
      auto n = to_u64(value);
      if (key == kAnnotationVcpus) {
        if (!n || *n < 1 || *n > kMaxVcpus) {
          return bad("must be a number of vCPUs between 1 and " + std::to_string(kMaxVcpus));
        }
        if (*n > caps.vcpus) {
          return bad("above this host's cap vm.max_vcpus = " + std::to_string(caps.vcpus) +
                     ": ask for at most " + std::to_string(caps.vcpus));
        }
        size.vcpus = static_cast<uint32_t>(*n);
      } else {
        if (!n || *n < kMinMemoryMiB || *n > kMaxMemoryMiB) {
          return bad("must be a size in MiB between " + std::to_string(kMinMemoryMiB) + " and " +
                     std::to_string(kMaxMemoryMiB));
        }
        if (*n > caps.memory_mib) {
          return bad(
              "above this host's cap vm.max_memory_mib = " + std::to_string(caps.memory_mib) +
              ": ask for at most " + std::to_string(caps.memory_mib));
        }
        size.memory_mib = static_cast<uint32_t>(*n);
      }
    }
  }
  if (size.vcpus < 1) size.vcpus = 1;
  return size;
}

}  // namespace hull::container
