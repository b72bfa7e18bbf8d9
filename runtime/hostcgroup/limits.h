// Named limits of the host cgroup manager.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace hull::hostcgroup {

// The host pids.max is the spec's linux.resources.pids.limit, but never below
// this: the container's own limit is enforced exactly in the guest, while on
// the host the cgroup holds the VM's helpers, whose threads count as tasks.
// Measured on the test machines (TCG), a running VM's host tasks are
//   monitor 11 (its gRPC threads) + hull-vsock 1 + virtiofsd 6 (two
//   processes; --thread-pool-size=0, so no pool that grows with I/O)
//   + QEMU 3 + one per vCPU
// = 22 for 1 vCPU and 25 for 4 vCPUs, steady under parallel file I/O from
// several exec'd processes; `hull create` adds itself for the moment its
// monitor is forked inside. The largest VM hull makes (255 vCPUs) needs about
// 280: 512 covers it with margin and stays below the limits callers set
// (runtime-tools checks 1000; docker's --pids-limit 100 becomes 512 on the
// host and stays 100 in the guest).
inline constexpr int64_t kPidsFloor = 512;

// cgroup files hull reads: /proc/<pid>/cgroup, /proc/self/mountinfo,
// cgroup.procs, cpuset.cpus.
inline constexpr size_t kMaxProcFileBytes = 1 << 20;

// rmdir of a cgroup whose last tasks are still exiting returns EBUSY: retry
// with a doubling delay from 1 ms, up to this long in total.
inline constexpr std::chrono::milliseconds kRemoveRetryBudget{3000};

// Deepest cgroup path accepted (components), against a runaway spec.
inline constexpr size_t kMaxPathDepth = 64;

}  // namespace hull::hostcgroup
