// Task.Stats: the container's cgroup v2 counters in the guest (agent
// StatsContainer, already checked by sandbox::parse_stats) as the
// io.containerd.cgroups.v2.Metrics containerd's cgroups library would read
// from the same files, packed in an Any with the bare type URL containerd 1.6
// resolves.
//
//   pids.current / pids.max          -> pids.current / pids.limit
//   cpu.stat                         -> cpu.*
//   memory.current / memory.max      -> memory.usage / memory.usage_limit
//   memory.swap.current              -> memory.swap_usage
//   memory.stat (by key)             -> memory.<key> (anon, file, inactive_file, pgfault...)
//   memory.events max, oom_kill      -> memory_events.max, .oom_kill
//   io.stat                          -> io.usage[]
//
// An unlimited memory.max or pids.max ("max") is UINT64_MAX, as the library
// reports it. memory.swap.max, memory.events low/high/oom, rdma and hugetlb
// are not collected by the agent and stay 0 / empty.
#pragma once

#include <google/protobuf/any.pb.h>

#include <string_view>

#include "agent.pb.h"
#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"

namespace hull::shim {

inline constexpr std::string_view kMetricsTypeUrl = "io.containerd.cgroups.v2.Metrics";

// Pure.
io::containerd::cgroups::v2::Metrics to_metrics(const agent::CgroupStats& s);

// Pure: the Metrics in an Any typed kMetricsTypeUrl.
google::protobuf::Any metrics_any(const agent::CgroupStats& s);

}  // namespace hull::shim
