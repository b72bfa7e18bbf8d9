// `hull events --stats`: runc's stats event shape (runtime/container/stats_event.h).
#include "runtime/container/stats_event.h"

#include <gtest/gtest.h>

namespace hull::container {
namespace {

std::vector<std::string> keys(const nlohmann::ordered_json& j) {
  std::vector<std::string> out;
  for (const auto& [k, v] : j.items()) out.push_back(k);
  return out;
}

TEST(StatsEvent, RuncsKeysInRuncsOrder) {
  agent::CgroupStats st;
  st.set_cpu_usage_usec(1500);
  st.set_cpu_user_usec(1000);
  st.set_cpu_system_usec(500);
  st.set_cpu_nr_periods(10);
  st.set_cpu_nr_throttled(2);
  st.set_cpu_throttled_usec(7);
  st.set_memory_current(4096);
  st.set_memory_max(1 << 20);
  st.set_memory_events_max(3);
  (*st.mutable_memory_stat())["anon"] = 100;
  (*st.mutable_memory_stat())["file"] = 200;
  st.set_pids_current(2);
  st.set_pids_max(64);
  agent::IoDeviceStats* dev = st.add_io_devices();
  dev->set_major(254);
  dev->set_minor(0);
  dev->set_rbytes(11);
  dev->set_wbytes(22);
  dev->set_rios(1);
  dev->set_wios(2);
  auto ev = stats_event_json("c1", st);
  EXPECT_EQ(keys(ev), (std::vector<std::string>{"type", "id", "data"}));
  EXPECT_EQ(ev["type"], "stats");
  EXPECT_EQ(ev["id"], "c1");
  const auto& d = ev["data"];
  EXPECT_EQ(keys(d), (std::vector<std::string>{"cpu", "cpuset", "memory", "pids", "blkio",
                                               "hugetlb", "intel_rdt", "network_interfaces"}));
  EXPECT_EQ(d["cpu"]["usage"].dump(), R"({"total":1500000,"kernel":500000,"user":1000000})");
  EXPECT_EQ(d["cpu"]["throttling"].dump(),
            R"({"periods":10,"throttledPeriods":2,"throttledTime":7000})");
  EXPECT_EQ(keys(d["memory"]),
            (std::vector<std::string>{"cache", "usage", "swap", "kernel", "kernelTCP", "raw"}));
  EXPECT_EQ(d["memory"]["cache"], 200);
  EXPECT_EQ(d["memory"]["usage"].dump(), R"({"limit":1048576,"usage":4096,"failcnt":3})");
  EXPECT_EQ(d["memory"]["kernel"].dump(), R"({"limit":0,"failcnt":0})");
  EXPECT_EQ(d["memory"]["raw"]["anon"], 100);
  EXPECT_EQ(d["pids"].dump(), R"({"current":2,"limit":64})");
  EXPECT_EQ(d["blkio"]["ioServiceBytesRecursive"].dump(),
            R"([{"major":254,"op":"Read","value":11},{"major":254,"op":"Write","value":22}])");
  EXPECT_EQ(d["blkio"]["ioServicedRecursive"][1].dump(), R"({"major":254,"op":"Write","value":2})");
  EXPECT_TRUE(d["network_interfaces"].is_null());
}

// Go's omitempty: runc leaves zero counters out, and an unlimited memory.max
// is MaxUint64.
TEST(StatsEvent, ZerosAreLeftOutAsRuncDoes) {
  auto d = stats_event_json("c1", agent::CgroupStats{})["data"];
  EXPECT_EQ(d["cpu"].dump(), R"({"usage":{"kernel":0,"user":0},"throttling":{}})");
  EXPECT_EQ(d["memory"].dump(),
            R"({"usage":{"limit":18446744073709551615,"failcnt":0},)"
            R"("swap":{"limit":18446744073709551615,"failcnt":0},)"
            R"("kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}})");
  EXPECT_EQ(d["pids"].dump(), "{}");
  EXPECT_EQ(d["blkio"].dump(), "{}");
}

}  // namespace
}  // namespace hull::container
