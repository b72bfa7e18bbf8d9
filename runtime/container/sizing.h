// VM sizing for one runc-mode container: vCPUs and memory from the spec's
// linux.resources, the host config's defaults, and the allow-listed io.hull.*
// annotations (docs/cli.md lists them).
//
//   vCPUs:  io.hull.vm.vcpus, else ceil(cpu.quota / cpu.period) when both are
//           positive, else the number of CPUs in cpu.cpus, else vm.vcpus.
//   memory: io.hull.vm.memory-mib, else memory.limit rounded up to MiB plus
//           kGuestMemoryOverheadMiB (the guest kernel, agent and page cache
//           the limit does not count), else vm.memory_mib.
#pragma once

#include <cstdint>

#include "common/error.h"
#include "runtime/config/config.h"
#include "runtime/oci/spec.h"

namespace hull::container {

inline constexpr uint32_t kGuestMemoryOverheadMiB = 96;
inline constexpr uint32_t kMinMemoryMiB = 128;
inline constexpr uint32_t kMaxMemoryMiB = 1024 * 1024;
inline constexpr uint32_t kMaxVcpus = 255;

inline constexpr const char* kAnnotationVcpus = "io.hull.vm.vcpus";
inline constexpr const char* kAnnotationMemoryMib = "io.hull.vm.memory-mib";

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

// Pure. Errors (Errc::Invalid) name the annotation or field and the rule; an
// io.hull.* annotation that is not on the allow list is an error too.
Result<VmSize> vm_size(const oci::Spec& spec, const config::Vm& defaults);

// Pure. The VM of a pod (the shim): for a CRI sandbox container
// (kCriContainerType "sandbox"), ceil(sandbox-cpu-quota / sandbox-cpu-period)
// vCPUs when both are positive, sandbox-memory rounded up to MiB plus
// kGuestMemoryOverheadMiB when positive, else the config's defaults (the
// sandbox's own linux.resources, CRI's pause limits, do not count);
// sandbox-cpu-shares is a weight, not a size: the kubelet writes it to the
// pod's host cgroup. io.hull.vm.* still override. Any other spec: vm_size.
// A CRI annotation that is not a number is Errc::Invalid, naming it.
Result<VmSize> pod_vm_size(const oci::Spec& spec, const config::Vm& defaults);

// Pure: CPUs in a cpuset list such as "0-3,8,10-11"; Errc::Invalid if malformed.
Result<uint32_t> count_cpuset(std::string_view list);

}  // namespace hull::container
