#include "common/cgroup/resources.h"
#include "common/text.h"

#include <algorithm>
#include <cmath>

namespace hull::cgroup {
namespace {

const std::string kRes = "linux.resources.";

std::string dev(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

// runc's numToStr for memory files: 0 unset, -1 "max".
std::string num_or_max(int64_t v) {
  if (v == 0) return "";
  if (v == -1) return "max";
  return std::to_string(v);
}

Status add_memory(const oci::Memory& m, std::vector<Write>& out) {
  std::string f = kRes + "memory.";
  int64_t limit = m.limit.value_or(0);
  if (limit < -1) return invalid_field(f + "limit", "must be -1 (unlimited) or a byte count");
  if (m.swap) {
    auto swap = memory_swap_to_v2(*m.swap, limit);
    if (!swap) return invalid_field(f + "swap", swap.error().msg);
    std::string v = num_or_max(*swap);
    if (v.empty() && *swap == 0 && *m.swap > 0) v = "0";  // swap == limit: no swap at all
    if (!v.empty()) out.push_back({"memory.swap.max", v, f + "swap"});
  } else if (limit == -1) {
    out.push_back({"memory.swap.max", "max", f + "swap"});
  }
  if (std::string v = num_or_max(limit); !v.empty()) out.push_back({"memory.max", v, f + "limit"});
  if (m.reservation) {
    if (*m.reservation < -1) {
      return invalid_field(f + "reservation", "must be -1 (unlimited) or a byte count");
    }
    if (std::string v = num_or_max(*m.reservation); !v.empty()) {
      out.push_back({"memory.low", v, f + "reservation"});
    }
  }
  return {};
}

Status add_io(const oci::BlockIo& b, std::vector<Write>& out) {
  std::string f = kRes + "blockIO.";
  if (b.weight && *b.weight != 0) {
    if (*b.weight < 10 || *b.weight > 1000)
      return invalid_field(f + "weight", "must be in [10, 1000]");
    out.push_back(
        {"io.weight", std::to_string(blkio_weight_to_io_weight(*b.weight)), f + "weight"});
  }
  if (b.weight_device) {
    for (size_t i = 0; i < b.weight_device->size(); ++i) {
      const auto& d = (*b.weight_device)[i];
      if (!d.weight) continue;
      std::string df = f + "weightDevice[" + std::to_string(i) + "].weight";
      if (*d.weight < 10 || *d.weight > 1000) return invalid_field(df, "must be in [10, 1000]");
      out.push_back(
          {"io.weight",
           dev(d.major, d.minor) + " " + std::to_string(blkio_weight_to_io_weight(*d.weight)), df});
    }
  }
  auto throttle = [&](const std::optional<std::vector<oci::ThrottleDevice>>& list,
                      std::string_view key, std::string_view name) {
    if (!list) return;
    for (size_t i = 0; i < list->size(); ++i) {
      const auto& d = (*list)[i];
      out.push_back({"io.max",
                     dev(d.major, d.minor) + " " + std::string(key) + "=" + std::to_string(d.rate),
                     f + std::string(name) + "[" + std::to_string(i) + "]"});
    }
  };
  throttle(b.throttle_read_bps_device, "rbps", "throttleReadBpsDevice");
  throttle(b.throttle_write_bps_device, "wbps", "throttleWriteBpsDevice");
  throttle(b.throttle_read_iops_device, "riops", "throttleReadIOPSDevice");
  throttle(b.throttle_write_iops_device, "wiops", "throttleWriteIOPSDevice");
  return {};
}

bool valid_page_size(std::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  std::string_view unit = s.substr(digits);
  return digits > 0 && (unit == "KB" || unit == "MB" || unit == "GB");
}

std::optional<uint64_t> decimal(std::string_view t) {
  if (t.empty() || t.size() > 19 ||
      !std::all_of(t.begin(), t.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::nullopt;
  }
  return std::stoull(std::string(t));
}

}  // namespace

uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  double l = std::log2(static_cast<double>(shares));
  double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return static_cast<uint64_t>(std::ceil(std::pow(10.0, exponent)));
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

Result<int64_t> memory_swap_to_v2(int64_t swap, int64_t limit) {
  if (limit == -1 && swap == 0) return -1;   // both unlimited, as on cgroup v1
  if (swap == -1 || swap == 0) return swap;  // "max", unset
  if (limit == -1) return swap;              // unlimited memory: swap as is
  if (limit == 0) return fail(Errc::Invalid, "unable to set swap limit without memory limit");
  if (limit < 0) return fail(Errc::Invalid, "invalid memory value: " + std::to_string(limit));
  if (swap < limit) return fail(Errc::Invalid, "memory+swap limit should be >= memory limit");
  return swap - limit;
}

std::string cpu_max(const oci::Cpu& c) {
  int64_t quota = c.quota.value_or(0);
  uint64_t period = c.period.value_or(0);
  if (quota == 0 && period == 0) return "";
  std::string q = quota > 0 ? std::to_string(quota) : "max";
  return q + " " + std::to_string(period ? period : kDefaultCpuPeriodUs);
}

Result<oci::Cpu> keep_cpu_max_half(oci::Cpu c, std::string_view current) {
  bool has_quota = c.quota.value_or(0) != 0;
  bool has_period = c.period.value_or(0) != 0;
  if (has_quota == has_period) return c;
  auto invalid = [&] {
    return fail(Errc::Invalid, "cpu.max: " + quote(current) + " is not \"<quota|max> <period>\"");
  };
  size_t space = current.find(' ');
  if (space == std::string_view::npos || space == 0) return invalid();
  std::string_view q = current.substr(0, space);
  std::string_view p = current.substr(space + 1);
  while (!p.empty() && (p.back() == '\n' || p.back() == ' ')) p.remove_suffix(1);
  if (has_quota) {
    auto period = decimal(p);
    if (!period || *period == 0) return invalid();
    c.period = *period;
  } else if (q == "max") {
    c.quota = -1;
  } else {
    auto quota = decimal(q);
    if (!quota || *quota == 0) return invalid();
    c.quota = static_cast<int64_t>(*quota);
  }
  return c;
}

Result<std::vector<Write>> cpu_writes(const oci::Cpu& c) {
  std::vector<Write> out;
  std::string f = kRes + "cpu.";
  if (c.realtime_runtime.value_or(0) != 0 || c.realtime_period.value_or(0) != 0) {
    return fail(Errc::Unsupported,
                f + "realtimeRuntime: real-time scheduling limits do not exist in cgroup v2");
  }
  if (c.shares && *c.shares != 0) {
    out.push_back({"cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)), f + "shares"});
  }
  if (std::string v = cpu_max(c); !v.empty()) {
    out.push_back({"cpu.max", v, f + (c.quota ? "quota" : "period")});
  }
  if (c.burst) out.push_back({"cpu.max.burst", std::to_string(*c.burst), f + "burst"});
  if (c.idle) {
    if (*c.idle != 0 && *c.idle != 1) return invalid_field(f + "idle", "must be 0 or 1");
    out.push_back({"cpu.idle", std::to_string(*c.idle), f + "idle"});
  }
  if (c.cpus && !c.cpus->empty()) out.push_back({"cpuset.cpus", *c.cpus, f + "cpus"});
  if (c.mems && !c.mems->empty()) out.push_back({"cpuset.mems", *c.mems, f + "mems"});
  return out;
}

Result<std::vector<Write>> writes(const oci::Resources& r) {
  std::vector<Write> out;
  if (r.memory) HULL_TRY(add_memory(*r.memory, out));
  if (r.cpu) {
    HULL_ASSIGN(cpu, cpu_writes(*r.cpu));
    out.insert(out.end(), cpu.begin(), cpu.end());
  }
  if (r.pids && r.pids->limit && *r.pids->limit != 0) {
    int64_t l = *r.pids->limit;
    out.push_back({"pids.max", l > 0 ? std::to_string(l) : "max", kRes + "pids.limit"});
  }
  if (r.block_io) HULL_TRY(add_io(*r.block_io, out));
  if (r.hugepage_limits) {
    for (size_t i = 0; i < r.hugepage_limits->size(); ++i) {
      const auto& h = (*r.hugepage_limits)[i];
      std::string hf = kRes + "hugepageLimits[" + std::to_string(i) + "].pageSize";
      if (!valid_page_size(h.page_size)) {
        return invalid_field(hf, "not a page size like \"2MB\": " + quote(h.page_size));
      }
      out.push_back({"hugetlb." + h.page_size + ".max", std::to_string(h.limit), hf});
    }
  }
  if (r.rdma) {
    for (const auto& [device, lim] : *r.rdma) {
      std::string rf = kRes + "rdma." + device;
      if (device.empty() || device.find_first_of(" \n") != std::string::npos) {
        return invalid_field(rf, "bad device name");
      }
      if (!lim.hca_handles && !lim.hca_objects) continue;
      std::string h = lim.hca_handles ? std::to_string(*lim.hca_handles) : "max";
      std::string o = lim.hca_objects ? std::to_string(*lim.hca_objects) : "max";
      out.push_back({"rdma.max", device + " hca_handle=" + h + " hca_object=" + o, rf});
    }
  }
  if (r.unified) {
    for (const auto& [file, value] : *r.unified) {
      std::string uf = kRes + "unified." + file;
      if (file.empty() || file.find('/') != std::string::npos || file[0] == '.' ||
          file.find('.') == std::string::npos) {
        return invalid_field(uf, "not a cgroup v2 interface file name");
      }
      if (file.starts_with("cgroup.") && file != "cgroup.max.depth" &&
          file != "cgroup.max.descendants" && file != "cgroup.type") {
        return invalid_field(
            uf, "core cgroup files other than max.depth/max.descendants/type are managed by hull");
      }
      out.push_back({file, value, uf});
    }
  }
  return out;
}

}  // namespace hull::cgroup
