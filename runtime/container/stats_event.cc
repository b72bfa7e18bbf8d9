#include "runtime/container/stats_event.h"

#include <cstdint>
#include <map>
#include <string>

namespace hull::container {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kUnlimited = UINT64_MAX;  // what runc prints for "max"

// Sets `key` unless `v` is 0 (Go's omitempty).
void set_nonzero(Json& j, const char* key, uint64_t v) {
  if (v != 0) j[key] = v;
}

// libcontainer's MemoryData: limit and failcnt always, usage and max when set.
Json memory_entry(uint64_t limit, uint64_t usage, uint64_t failcnt) {
  Json j = Json::object();
  j["limit"] = limit;
  set_nonzero(j, "usage", usage);
  j["failcnt"] = failcnt;
  return j;
}

Json blkio_entry(const agent::IoDeviceStats& d, const char* op, uint64_t value) {
  Json j = Json::object();
  set_nonzero(j, "major", d.major());
  set_nonzero(j, "minor", d.minor());
  j["op"] = op;
  set_nonzero(j, "value", value);
  return j;
}

}  // namespace

Json stats_event_json(const std::string& id, const agent::CgroupStats& st) {
  Json usage = Json::object();
  set_nonzero(usage, "total", st.cpu_usage_usec() * 1000);
  usage["kernel"] = st.cpu_system_usec() * 1000;
  usage["user"] = st.cpu_user_usec() * 1000;
  Json throttling = Json::object();
  set_nonzero(throttling, "periods", st.cpu_nr_periods());
  set_nonzero(throttling, "throttledPeriods", st.cpu_nr_throttled());
  set_nonzero(throttling, "throttledTime", st.cpu_throttled_usec() * 1000);

  // cgroup v2 has no cpuset counters: runc prints the empty struct.
  Json cpuset = {
      {"cpu_exclusive", 0},   {"mem_hardwall", 0},       {"mem_exclusive", 0},
      {"memory_migrate", 0},  {"memory_spread_page", 0}, {"memory_spread_slab", 0},
      {"memory_pressure", 0}, {"sched_load_balance", 0}, {"sched_relax_domain_level", 0}};

  // In name order, as runc prints memory.stat (the message's map has none).
  const std::map<std::string, uint64_t> memory_stat(st.memory_stat().begin(),
                                                    st.memory_stat().end());
  Json memory = Json::object();
  if (auto it = memory_stat.find("file"); it != memory_stat.end()) {
    set_nonzero(memory, "cache", it->second);
  }
  uint64_t limit = st.memory_max() ? st.memory_max() : kUnlimited;
  memory["usage"] = memory_entry(limit, st.memory_current(), st.memory_events_max());
  memory["swap"] = memory_entry(kUnlimited, st.memory_swap_current() + st.memory_current(), 0);
  memory["kernel"] = memory_entry(0, 0, 0);
  memory["kernelTCP"] = memory_entry(0, 0, 0);
  if (!memory_stat.empty()) {
    Json raw = Json::object();
    for (const auto& [k, v] : memory_stat) raw[k] = v;
    memory["raw"] = raw;
  }

  Json pids = Json::object();
  set_nonzero(pids, "current", st.pids_current());
  set_nonzero(pids, "limit", st.pids_max());

  Json bytes = Json::array(), ios = Json::array();
  for (const auto& d : st.io_devices()) {
    bytes.push_back(blkio_entry(d, "Read", d.rbytes()));
    bytes.push_back(blkio_entry(d, "Write", d.wbytes()));
    ios.push_back(blkio_entry(d, "Read", d.rios()));
    ios.push_back(blkio_entry(d, "Write", d.wios()));
  }
  Json blkio = Json::object();
  if (!bytes.empty()) blkio["ioServiceBytesRecursive"] = bytes;
  if (!ios.empty()) blkio["ioServicedRecursive"] = ios;

  Json data = Json::object();
  data["cpu"] = Json{{"usage", usage}, {"throttling", throttling}};
  data["cpuset"] = cpuset;
  data["memory"] = memory;
  data["pids"] = pids;
  data["blkio"] = blkio;
  data["hugetlb"] = Json::object();
  data["intel_rdt"] = Json::object();
  data["network_interfaces"] = nullptr;
  Json ev = Json::object();
  ev["type"] = "stats";
  ev["id"] = id;
  ev["data"] = data;
  return ev;
}

}  // namespace hull::container
