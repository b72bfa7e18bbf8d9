// VM sizing for one runc-mode container: vCPUs and memory from the spec's
// linux.resources, the host config's defaults, and the allow-listed io.hull.*
// annotations (docs/cli.md lists them).
//
//   vCPUs:  io.hull.vm.vcpus (when allow-listed), else ceil(cpu.quota / cpu.period) when both are
//           positive, else the number of CPUs in cpu.cpus, else vm.vcpus.
//   memory: io.hull.vm.memory-mib (when allow-listed), else memory.limit rounded up to MiB plus
//           kGuestMemoryOverheadMiB (the guest kernel, agent and page cache
//           the limit does not count), else vm.memory_mib.
#pragma once

#include <cstdint>

#include "common/error.h"
#include "common/oci/spec.h"
#include "runtime/config/config.h"

namespace hull::container {

inline constexpr uint32_t kGuestMemoryOverheadMiB = 96;
inline constexpr uint32_t kMinMemoryMiB = 128;
inline constexpr uint32_t kMaxMemoryMiB = 1024 * 1024;
inline constexpr uint32_t kMaxVcpus = 255;

using config::kAnnotationMemoryMib;
using config::kAnnotationVcpus;

// What containerd's CRI plugin writes on a pod's sandbox (pause) container:
// the sums of the pod's containers' limits (kubelet 1.23+).
inline constexpr const char* kCriContainerType = "io.kubernetes.cri.container-type";
inline constexpr const char* kCriSandboxCpuQuota = "io.kubernetes.cri.sandbox-cpu-quota";
inline constexpr const char* kCriSandboxCpuPeriod = "io.kubernetes.cri.sandbox-cpu-period";
inline constexpr const char* kCriSandboxCpuShares = "io.kubernetes.cri.sandbox-cpu-shares";
inline constexpr const char* kCriSandboxMemory = "io.kubernetes.cri.sandbox-memory";

struct VmSize {
  uint32_t vcpus = 1;
  uint32_t memory_mib = 256;
};

// The most any VM of this host may get (vm.max_vcpus, vm.max_memory_mib).
struct VmCaps {
  uint32_t vcpus = kMaxVcpus;
  uint32_t memory_mib = kMaxMemoryMiB;
};

// The caps of `vm`: its max_* keys, where 0 means the host's online CPUs
// (sysconf) and RAM (MemTotal, whole MiB).
VmCaps vm_caps(const config::Vm& vm);

// Pure. An io.hull.* annotation is honoured only when vm.allowed_annotations
// names it, and above a cap it is refused; a size from linux.resources or the
// defaults is lowered to the caps (the guest's cgroup still holds the
// container to its own limits). Errors (Errc::Invalid) name the annotation or
// field, the rule or cap, and what to do.
Result<VmSize> vm_size(const oci::Spec& spec, const config::Vm& defaults, const VmCaps& caps);

// vm_size with vm_caps(defaults).
Result<VmSize> vm_size(const oci::Spec& spec, const config::Vm& defaults);

// What the host cgroup of a VM of `memory_mib` may use: the guest's RAM (a
// memfd QEMU and the vhost-user helpers share) plus kHostMemoryOverheadMiB
// for QEMU's own heap and TCG translation cache, the monitor, virtiofsd and
// hull-vsock (docs/configuration.md has the measurement).
inline constexpr uint32_t kHostMemoryOverheadMiB = 96;
uint64_t host_memory_limit_bytes(uint32_t memory_mib);

// Pure. The VM of a pod (the shim): for a CRI sandbox container
// (kCriContainerType "sandbox"), ceil(sandbox-cpu-quota / sandbox-cpu-period)
// vCPUs when both are positive, sandbox-memory rounded up to MiB plus
// kGuestMemoryOverheadMiB when positive, else the config's defaults (the
// sandbox's own linux.resources, CRI's pause limits, do not count);
// sandbox-cpu-shares is a weight, not a size: the kubelet writes it to the
// pod's host cgroup. io.hull.vm.* still override (allow-list and caps as in vm_size). Any other
// spec: vm_size. A CRI annotation that is not a number is Errc::Invalid, naming it.
Result<VmSize> pod_vm_size(const oci::Spec& spec, const config::Vm& defaults);

// Pure: CPUs in a cpuset list such as "0-3,8,10-11"; Errc::Invalid if malformed.
Result<uint32_t> count_cpuset(std::string_view list);

}  // namespace hull::container
