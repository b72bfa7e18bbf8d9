// hull::cgroup resources: linux.resources -> the cgroup v2 files to write, in
// the order to write them, with runc's conversions. Pure: the host cgroup
// (runtime/hostcgroup, its v2 branch) and the guest's (agent/engine/cgroup.h)
// write what these return.
//
//   spec (linux.resources)     cgroup v2 file
//   memory.limit               memory.max        (-1 "max", 0 unset)
//   memory.swap                memory.swap.max   (swap - limit: memory_swap_to_v2)
//   memory.reservation         memory.low
//   cpu.shares                 cpu.weight        (cpu_shares_to_weight)
//   cpu.quota, cpu.period      cpu.max           "<quota|max> <period|100000>" (cpu_max)
//   cpu.burst, cpu.idle        cpu.max.burst, cpu.idle
//   cpu.cpus, cpu.mems         cpuset.cpus, cpuset.mems
//   pids.limit                 pids.max          (-1 "max", 0 unset)
//   blockIO.weight[Device]     io.weight         (blkio_weight_to_io_weight)
//   blockIO.throttle*          io.max            "maj:min rbps=N" ...
//   hugepageLimits             hugetlb.<size>.max
//   rdma                       rdma.max
//   unified                    the file it names (not cgroup.* but max.depth,
//                                                 max.descendants, type)
//
// Not here (cgroup v1 only, or applied elsewhere): devices, memory.kernel,
// memory.kernelTCP, memory.swappiness, memory.disableOOMKiller,
// memory.useHierarchy, blockIO.leafWeight, network, cpu.realtime* (refused:
// cgroup v2 has no real-time groups).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/oci/spec.h"

namespace hull::cgroup {

// The kernel's default CFS period, and runc's when only a quota is given.
inline constexpr uint64_t kDefaultCpuPeriodUs = 100000;

struct Write {
  std::string file;   // "memory.max"
  std::string value;  // "1048576"
  std::string field;  // "linux.resources.memory.limit", for errors
  bool operator==(const Write&) const = default;
};

// Everything in the table, in order. Errc::Invalid (Errc::Unsupported for
// real-time limits) naming the field.
Result<std::vector<Write>> writes(const oci::Resources& r);

// The cpu rows of the table alone (cpu.weight, cpu.max, cpu.max.burst,
// cpu.idle, cpuset.cpus, cpuset.mems).
Result<std::vector<Write>> cpu_writes(const oci::Cpu& c);

// cpu.max for `c`'s quota and period, "" when it gives neither.
std::string cpu_max(const oci::Cpu& c);

// The CPU bandwidth of `c` for cgroup v2's single cpu.max file: the half it
// leaves out (quota or period, unset or 0) kept from `current`, the file's
// text ("max 100000", "50000 100000"), as runc's update keeps it; without
// this `--cpu-period` alone would drop the quota and `--cpu-quota` alone
// reset the period. `c` as it is when it gives both halves or neither.
// Errc::Invalid when `current` is not "<quota|max> <period>".
Result<oci::Cpu> keep_cpu_max_half(oci::Cpu c, std::string_view current);

// runc's cpu.shares -> cpu.weight (runc >= 1.3.2): a quadratic fit through
// 2 -> 1, 1024 -> 100, 262144 -> 10000; 0 stays 0 (unset).
uint64_t cpu_shares_to_weight(uint64_t shares);
// runc: 1 + (w - 10) * 9999 / 990, [10, 1000] -> [1, 10000]; 0 stays 0.
uint64_t blkio_weight_to_io_weight(uint64_t weight);
// runc's ConvertMemorySwapToCgroupV2Value: memory.swap.max = swap - limit.
Result<int64_t> memory_swap_to_v2(int64_t swap, int64_t limit);

}  // namespace hull::cgroup
