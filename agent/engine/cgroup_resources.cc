#include "agent/engine/cgroup_resources.h"

#include <charconv>

#include "agent/engine/str.h"

namespace hull::engine {
namespace {

constexpr std::string_view kRes = "linux.resources.";

std::unexpected<Error> bad(std::string_view field, std::string_view why) {
  return fail(Errc::Invalid, cat(field, ": ", why));
}

// runc's numToStr for memory files: 0 unset, -1 "max".
std::string num_or_max(int64_t v) {
  if (v == 0) return "";
  if (v == -1) return "max";
  return std::to_string(v);
}

Result<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return fail(Errc::Invalid, cat("not a number: ", in_quotes(s)));
  }
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

void add_memory(const oci::Memory& m, std::vector<CgroupWrite>& out, Status& st) {
  std::string f = cat(kRes, "memory.");
  int64_t limit = m.limit.value_or(0);
  if (limit < -1) {
    st = bad(f + "limit", "must be -1 (unlimited) or a byte count");
    return;
  }
  if (m.swap) {
    auto swap = memory_swap_to_v2(*m.swap, limit);
    if (!swap) {
      st = bad(f + "swap", swap.error().msg);
      return;
    }
    std::string v = num_or_max(*swap);
    if (v.empty() && *swap == 0 && *m.swap > 0) v = "0";  // swap == limit: no swap at all
    if (!v.empty()) out.push_back({"memory.swap.max", v, f + "swap"});
  } else if (limit == -1) {
    out.push_back({"memory.swap.max", "max", f + "swap"});
  }
  if (std::string v = num_or_max(limit); !v.empty()) out.push_back({"memory.max", v, f + "limit"});
  if (m.reservation) {
    if (*m.reservation < -1) {
      st = bad(f + "reservation", "must be -1 (unlimited) or a byte count");
      return;
    }
    if (std::string v = num_or_max(*m.reservation); !v.empty())
      out.push_back({"memory.low", v, f + "reservation"});
  }
}

Status add_cpu(const oci::Cpu& c, std::vector<CgroupWrite>& out) {
  std::string f = cat(kRes, "cpu.");
  if (c.realtime_runtime.value_or(0) != 0 || c.realtime_period.value_or(0) != 0) {
    return fail(Errc::Unsupported,
                f + "realtimeRuntime: real-time scheduling limits do not exist in cgroup v2");
  }
  if (c.shares && *c.shares != 0) {
    out.push_back({"cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)), f + "shares"});
  }
  int64_t quota = c.quota.value_or(0);
  uint64_t period = c.period.value_or(0);
  if (quota != 0 || period != 0) {
    std::string q = quota > 0 ? std::to_string(quota) : "max";
    if (period == 0) period = 100000;
    out.push_back({"cpu.max", cat(q, " ", period), f + (c.quota ? "quota" : "period")});
  }
  if (c.burst) out.push_back({"cpu.max.burst", std::to_string(*c.burst), f + "burst"});
  if (c.idle) {
    if (*c.idle != 0 && *c.idle != 1) return bad(f + "idle", "must be 0 or 1");
    out.push_back({"cpu.idle", std::to_string(*c.idle), f + "idle"});
  }
  if (c.cpus && !c.cpus->empty()) out.push_back({"cpuset.cpus", *c.cpus, f + "cpus"});
  if (c.mems && !c.mems->empty()) out.push_back({"cpuset.mems", *c.mems, f + "mems"});
  return {};
}

Status add_io(const oci::BlockIo& b, std::vector<CgroupWrite>& out) {
  std::string f = cat(kRes, "blockIO.");
  if (b.weight && *b.weight != 0) {
    if (*b.weight < 10 || *b.weight > 1000) return bad(f + "weight", "must be in [10, 1000]");
    out.push_back(
        {"io.weight", std::to_string(blkio_weight_to_io_weight(*b.weight)), f + "weight"});
  }
  if (b.weight_device) {
    for (size_t i = 0; i < b.weight_device->size(); ++i) {
      const auto& d = (*b.weight_device)[i];
      if (!d.weight) continue;
      std::string df = cat(f, "weightDevice[", i, "].weight");
      if (*d.weight < 10 || *d.weight > 1000) return bad(df, "must be in [10, 1000]");
      out.push_back(
          {"io.weight", cat(d.major, ":", d.minor, " ", blkio_weight_to_io_weight(*d.weight)), df});
    }
  }
  auto throttle = [&](const std::optional<std::vector<oci::ThrottleDevice>>& list,
                      std::string_view key, std::string_view name) {
    if (!list) return;
    for (size_t i = 0; i < list->size(); ++i) {
      const auto& d = (*list)[i];
      out.push_back(
          {"io.max", cat(d.major, ":", d.minor, " ", key, "=", d.rate), cat(f, name, "[", i, "]")});
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

}  // namespace

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

Result<int64_t> memory_swap_to_v2(int64_t swap, int64_t limit) {
  if (limit == -1 && swap == 0) return -1;   // both unlimited, as on cgroup v1
  if (swap == -1 || swap == 0) return swap;  // "max", unset
  if (limit == -1) return swap;              // unlimited memory: swap as is
  if (limit == 0) return fail(Errc::Invalid, "unable to set swap limit without memory limit");
  if (limit < 0) return fail(Errc::Invalid, cat("invalid memory value: ", limit));
  if (swap < limit) return fail(Errc::Invalid, "memory+swap limit should be >= memory limit");
  return swap - limit;
}

Result<std::vector<CgroupWrite>> cgroup_writes(const oci::Resources& r) {
  std::vector<CgroupWrite> out;
  if (r.memory) {
    Status st;
    add_memory(*r.memory, out, st);
    HULL_TRY(st);
  }
  if (r.cpu) HULL_TRY(add_cpu(*r.cpu, out));
  if (r.pids && r.pids->limit && *r.pids->limit != 0) {
    int64_t l = *r.pids->limit;
    out.push_back({"pids.max", l > 0 ? std::to_string(l) : "max", cat(kRes, "pids.limit")});
  }
  if (r.block_io) HULL_TRY(add_io(*r.block_io, out));
  if (r.hugepage_limits) {
    for (size_t i = 0; i < r.hugepage_limits->size(); ++i) {
      const auto& h = (*r.hugepage_limits)[i];
      std::string hf = cat(kRes, "hugepageLimits[", i, "].pageSize");
      if (!valid_page_size(h.page_size))
        return bad(hf, cat("not a page size like \"2MB\": ", in_quotes(h.page_size)));
      out.push_back({cat("hugetlb.", h.page_size, ".max"), std::to_string(h.limit), hf});
    }
  }
  if (r.rdma) {
    for (const auto& [dev, lim] : *r.rdma) {
      std::string rf = cat(kRes, "rdma.", dev);
      if (dev.empty() || dev.find_first_of(" \n") != std::string::npos)
        return bad(rf, "bad device name");
      if (!lim.hca_handles && !lim.hca_objects) continue;
      std::string h = lim.hca_handles ? std::to_string(*lim.hca_handles) : "max";
      std::string o = lim.hca_objects ? std::to_string(*lim.hca_objects) : "max";
      out.push_back({"rdma.max", cat(dev, " hca_handle=", h, " hca_object=", o), rf});
    }
  }
  if (r.unified) {
    for (const auto& [file, value] : *r.unified) {
      std::string uf = cat(kRes, "unified.", file);
      if (file.empty() || file.find('/') != std::string::npos || file[0] == '.' ||
          file.find('.') == std::string::npos) {
        return bad(uf, "not a cgroup v2 interface file name");
      }
      if (file.rfind("cgroup.", 0) == 0 && file != "cgroup.max.depth" &&
          file != "cgroup.max.descendants" && file != "cgroup.type") {
        return bad(
            uf, "core cgroup files other than max.depth/max.descendants/type are managed by hull");
      }
      out.push_back({file, value, uf});
    }
  }
  return out;
}

Result<std::string> expand_slice(std::string_view slice) {
  constexpr std::string_view kSuffix = ".slice";
  if (slice.size() <= kSuffix.size() || slice.substr(slice.size() - kSuffix.size()) != kSuffix ||
      slice.find('/') != std::string_view::npos) {
    return fail(Errc::Invalid, cat("invalid slice name ", in_quotes(slice)));
  }
  if (slice == "-.slice") return std::string("/");
  std::string_view base = slice.substr(0, slice.size() - kSuffix.size());
  if (base.front() == '-' || base.back() == '-' || base.find("--") != std::string_view::npos) {
    return fail(Errc::Invalid, cat("invalid slice name ", in_quotes(slice)));
  }
  std::string path;
  std::string prefix;
  size_t start = 0;
  while (true) {
    size_t dash = base.find('-', start);
    std::string_view comp =
        base.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    prefix = prefix.empty() ? std::string(comp) : cat(prefix, "-", comp);
    path += cat("/", prefix, ".slice");
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  return path;
}

Result<std::string> cgroup_relative_path(const std::optional<std::string>& cgroups_path,
                                         std::string_view id) {
  const std::string f = "linux.cgroupsPath";
  if (!cgroups_path || cgroups_path->empty()) {
    if (id.empty() || id.find('/') != std::string_view::npos || id == "." || id == "..") {
      return fail(Errc::Invalid, cat("container id ", in_quotes(id), " cannot name a cgroup"));
    }
    return cat("/hull/", id);
  }
  const std::string& p = *cgroups_path;
  std::string out;
  size_t c1 = p.find(':');
  if (p[0] != '/' && c1 != std::string::npos) {
    size_t c2 = p.find(':', c1 + 1);
    if (c2 == std::string::npos || p.find(':', c2 + 1) != std::string::npos) {
      return bad(f, cat("systemd-style paths are \"slice:prefix:name\", got ", in_quotes(p)));
    }
    std::string slice = p.substr(0, c1), prefix = p.substr(c1 + 1, c2 - c1 - 1),
                name = p.substr(c2 + 1);
    if (name.empty()) return bad(f, "the name part of \"slice:prefix:name\" is empty");
    auto expanded = expand_slice(slice.empty() ? "system.slice" : slice);
    if (!expanded) return bad(f, expanded.error().msg);
    std::string unit = name.size() > 6 && name.ends_with(".slice") ? name
                       : prefix.empty()                            ? cat(name, ".scope")
                                        : cat(prefix, "-", name, ".scope");
    if (unit.find('/') != std::string::npos) return bad(f, "unit names cannot contain '/'");
    out = (*expanded == "/" ? "" : *expanded) + "/" + unit;
  } else {
    // Clean: collapse slashes and ".", refuse "..".
    size_t i = 0;
    while (i < p.size()) {
      size_t j = p.find('/', i);
      std::string_view comp =
          std::string_view(p).substr(i, j == std::string::npos ? std::string::npos : j - i);
      if (comp == "..") return bad(f, cat("must not contain \"..\": ", in_quotes(p)));
      if (!comp.empty() && comp != ".") out += cat("/", comp);
      if (j == std::string::npos) break;
      i = j + 1;
    }
    if (out.empty()) return bad(f, "names the cgroup root itself");
  }
  return out;
}

Result<std::map<std::string, uint64_t>> parse_flat_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos)
      return fail(Errc::Invalid, cat("line ", line_no, ": no value"));
    auto v = parse_u64(trim(line.substr(sp + 1)));
    if (!v) return fail(Errc::Invalid, cat("line ", line_no, ": ", v.error().msg));
    out[std::string(line.substr(0, sp))] = *v;
  }
  return out;
}

Result<std::optional<uint64_t>> parse_single_value(std::string_view text) {
  text = trim(text);
  if (text == "max") return std::optional<uint64_t>{};
  HULL_ASSIGN(v, parse_u64(text));
  return std::optional<uint64_t>{v};
}

Result<std::vector<IoDeviceStat>> parse_io_stat(std::string_view text) {
  std::vector<IoDeviceStat> out;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    IoDeviceStat d;
    size_t sp = line.find(' ');
    std::string_view dev = line.substr(0, sp);
    size_t colon = dev.find(':');
    if (colon == std::string_view::npos)
      return fail(Errc::Invalid, cat("line ", line_no, ": no major:minor"));
    auto maj = parse_u64(dev.substr(0, colon));
    auto min = parse_u64(dev.substr(colon + 1));
    if (!maj || !min || *maj > UINT32_MAX || *min > UINT32_MAX) {
      return fail(Errc::Invalid, cat("line ", line_no, ": bad major:minor ", in_quotes(dev)));
    }
    d.major = static_cast<uint32_t>(*maj);
    d.minor = static_cast<uint32_t>(*min);
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    while (!rest.empty()) {
      size_t e = rest.find(' ');
      std::string_view kv = rest.substr(0, e);
      rest = e == std::string_view::npos ? std::string_view{} : trim(rest.substr(e + 1));
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos)
        return fail(Errc::Invalid, cat("line ", line_no, ": bad field ", in_quotes(kv)));
      auto v = parse_u64(kv.substr(eq + 1));
      if (!v) return fail(Errc::Invalid, cat("line ", line_no, ": ", v.error().msg));
      d.fields[std::string(kv.substr(0, eq))] = *v;
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace hull::engine
