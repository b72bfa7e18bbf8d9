#include "runtime/hostcgroup/values.h"

#include <algorithm>

#include "common/cgroup_weight.h"
#include "runtime/hostcgroup/limits.h"

namespace hull::hostcgroup {
namespace {

constexpr const char* kCpu = "linux.resources.cpu.";
constexpr uint64_t kDefaultPeriodUs = 100000;  // the kernel's, runc's v2 default

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

void add_cpu_v2(const oci::Cpu& c, std::vector<Write>& out) {
  if (c.shares.value_or(0) != 0) {
    out.push_back({"cpu", "cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)),
                   std::string(kCpu) + "shares", false, false});
  }
  uint64_t period = c.period.value_or(0);
  int64_t quota = c.quota.value_or(0);
  if (quota != 0 || period != 0) {
    std::string q = quota > 0 ? std::to_string(quota) : "max";
    out.push_back({"cpu", "cpu.max", q + " " + std::to_string(period ? period : kDefaultPeriodUs),
                   std::string(kCpu) + (c.quota ? "quota" : "period"), false, false, true});
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
    }
    if (r.cpu->cpus && !r.cpu->cpus->empty()) {
      out.push_back(
          {"cpuset", "cpuset.cpus", *r.cpu->cpus, std::string(kCpu) + "cpus", false, false});
    }
    if (r.cpu->mems && !r.cpu->mems->empty()) {
      out.push_back(
          {"cpuset", "cpuset.mems", *r.cpu->mems, std::string(kCpu) + "mems", false, false});
    }
  }
  if (r.pids && r.pids->limit && *r.pids->limit != 0) {
    out.push_back({"pids", "pids.max", host_pids_max(*r.pids->limit), "linux.resources.pids.limit",
                   false, false});
  }
  return out;
}

Result<oci::Cpu> keep_cpu_max_half(oci::Cpu c, const std::string& current) {
  bool has_quota = c.quota.value_or(0) != 0;
  bool has_period = c.period.value_or(0) != 0;
  if (has_quota == has_period) return c;
  auto bad = [&] {
    return fail(Errc::Invalid, "cpu.max: \"" + current + "\" is not \"<quota|max> <period>\"");
  };
  size_t space = current.find(' ');
  if (space == std::string::npos || space == 0) return bad();
  std::string q = current.substr(0, space);
  std::string p = current.substr(space + 1);
  while (!p.empty() && (p.back() == '\n' || p.back() == ' ')) p.pop_back();
  auto number = [](const std::string& t) -> std::optional<uint64_t> {
    if (t.empty() || t.size() > 19 ||
        !std::all_of(t.begin(), t.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return std::nullopt;
    }
    return std::stoull(t);
  };
  if (has_quota) {
    auto period = number(p);
    if (!period || *period == 0) return bad();
    c.period = *period;
  } else if (q == "max") {
    c.quota = -1;
  } else {
    auto quota = number(q);
    if (!quota || *quota == 0) return bad();
    c.quota = static_cast<int64_t>(*quota);
  }
  return c;
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
