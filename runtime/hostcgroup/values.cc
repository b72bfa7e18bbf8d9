#include "runtime/hostcgroup/values.h"

#include <algorithm>

#include "common/cgroup/resources.h"
#include "runtime/hostcgroup/limits.h"

namespace hull::hostcgroup {
namespace {

constexpr const char* kCpu = "linux.resources.cpu.";

void add_cpu_v1(const oci::Cpu& c, std::vector<Write>& out) {
  uint64_t rt_period = c.realtime_period.value_or(0);
  int64_t rt_runtime = c.realtime_runtime.value_or(0);
  if (rt_period != 0) {
    out.push_back({"cpu", "cpu.rt_period_us", std::to_string(rt_period),
                   std::string(kCpu) + "realtimePeriod", rt_runtime != 0, false});
  }
  if (rt_runtime != 0) {
    out.push_back({"cpu", "cpu.rt_runtime_us", std::to_string(rt_runtime),
                   std::string(kCpu) + "realtimeRuntime", false, false});
  }
  if (c.shares.value_or(0) != 0) {
    out.push_back({"cpu", "cpu.shares", std::to_string(*c.shares), std::string(kCpu) + "shares",
                   false, true});
  }
  uint64_t period = c.period.value_or(0);
  int64_t quota = c.quota.value_or(0);
  if (period != 0) {
    out.push_back({"cpu", "cpu.cfs_period_us", std::to_string(period), std::string(kCpu) + "period",
                   quota != 0, false, true});
  }
  if (quota != 0) {
    out.push_back({"cpu", "cpu.cfs_quota_us", std::to_string(quota), std::string(kCpu) + "quota",
                   false, false, true});
  }
}

// cgroup v2: common/cgroup's rows for the host's share of the CPU fields
// (weight, bandwidth, cpuset); real-time limits are ignored there as runc
// ignores them, burst and idle stay in the guest.
void add_cpu_v2(oci::Cpu c, std::vector<Write>& out) {
  c.realtime_period.reset();
  c.realtime_runtime.reset();
  c.burst.reset();
  c.idle.reset();
  auto rows = cgroup::cpu_writes(c);
  if (!rows) return;  // only real-time or idle values fail, and they are gone
  for (auto& w : *rows) {
    std::string controller = w.file.substr(0, w.file.find('.'));
    bool bandwidth = w.file == "cpu.max";
    out.push_back({controller, std::move(w.file), std::move(w.value), std::move(w.field), false,
                   false, bandwidth});
  }
}

}  // namespace

std::vector<Write> host_writes(const oci::Resources& r, bool v2) {
  std::vector<Write> out;
  if (r.cpu) {
    if (v2) {
      add_cpu_v2(*r.cpu, out);
    } else {
      add_cpu_v1(*r.cpu, out);
      if (r.cpu->cpus && !r.cpu->cpus->empty()) {
        out.push_back(
            {"cpuset", "cpuset.cpus", *r.cpu->cpus, std::string(kCpu) + "cpus", false, false});
      }
      if (r.cpu->mems && !r.cpu->mems->empty()) {
        out.push_back(
            {"cpuset", "cpuset.mems", *r.cpu->mems, std::string(kCpu) + "mems", false, false});
      }
    }
  }
  if (r.pids && r.pids->limit && *r.pids->limit != 0) {
    out.push_back({"pids", "pids.max", host_pids_max(*r.pids->limit), "linux.resources.pids.limit",
                   false, false});
  }
  return out;
}

std::string host_pids_max(int64_t spec_limit) {
  if (spec_limit < 0) return "max";
  return std::to_string(std::max(spec_limit, kPidsFloor));
}

std::string shares_clamped_message(uint64_t wanted, uint64_t got) {
  if (wanted > got) return "the maximum allowed cpu-shares is " + std::to_string(got);
  return "the minimum allowed cpu-shares is " + std::to_string(got);
}

}  // namespace hull::hostcgroup
