// hull::hostcgroup values: which files of a container's host cgroup get which
// values from linux.resources, in runc's order and format. Pure.
//
// The cgroup v2 column is common/cgroup/resources.h's rule (the guest's), for
// the fields the host mirrors; a CPU quota or period given alone is merged
// with the file's other half there (cgroup::keep_cpu_max_half).
//
//   spec (linux.resources)      cgroup v1 file               cgroup v2 file
//   cpu.realtimePeriod          cpu.rt_period_us             (none: v2 has no RT groups;
//   cpu.realtimeRuntime         cpu.rt_runtime_us             ignored as runc does)
//   cpu.shares                  cpu.shares                   cpu.weight (runc's conversion)
//   cpu.period, cpu.quota       cpu.cfs_period_us,           cpu.max "<quota|max> <period>"
//                               cpu.cfs_quota_us
//   cpu.cpus, cpu.mems          cpuset.cpus, cpuset.mems     cpuset.cpus, cpuset.mems
//   pids.limit                  pids.max = max(limit, kPidsFloor); -1 -> "max"; 0 unset
//
// Not on the host: the container's memory limit (the host cgroup gets the
// VM's RAM plus its overhead instead, Cgroup::limit_memory), blockIO, hugepages, network, rdma,
// unified and devices. Those, and the container's exact pids limit, apply in the guest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/oci/spec.h"

namespace hull::hostcgroup {

struct Write {
  std::string controller;  // the controller owning the file: "cpu", "cpuset", "pids"
  std::string file;        // "cpu.cfs_quota_us"
  std::string value;
  std::string field;  // the spec field it comes from: "linux.resources.cpu.quota"
  // EINVAL from the kernel: write it again after the next file (runc: a
  // period the old quota does not fit yet, rt_period before rt_runtime).
  bool retry_after_next = false;
  // Read back and compare (cpu.shares: the kernel clamps instead of refusing).
  bool verify = false;
  // CPU bandwidth (quota, period): written once the VM has booted (Cgroup::
  // limit_bandwidth), so that a boot under TCG is not throttled to the
  // container's share.
  bool bandwidth = false;
  bool operator==(const Write&) const = default;
};

// The host writes for `r`, in the order to apply them.
std::vector<Write> host_writes(const oci::Resources& r, bool v2);

// pids.max for a spec limit (see the table).
std::string host_pids_max(int64_t spec_limit);

// The error runc gives when cpu.shares reads back different from what it
// wrote: "the maximum allowed cpu-shares is N" or "the minimum ...".
std::string shares_clamped_message(uint64_t wanted, uint64_t got);

}  // namespace hull::hostcgroup
