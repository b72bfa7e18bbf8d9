#include "runtime/hostcgroup/values.h"

#include <gtest/gtest.h>

#include "common/cgroup/resources.h"
#include "runtime/hostcgroup/limits.h"

namespace hull::hostcgroup {
namespace {

oci::Resources cpu_resources() {
  oci::Resources r;
  r.cpu = oci::Cpu{};
  r.cpu->shares = 1024;
  r.cpu->period = 100000;
  r.cpu->quota = 50000;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  return r;
}

std::vector<std::string> files(const std::vector<Write>& ws) {
  std::vector<std::string> out;
  for (const auto& w : ws) out.push_back(w.file + "=" + w.value);
  return out;
}

TEST(HostWrites, V1CpuInRuncsOrder) {
  auto r = cpu_resources();
  r.cpu->realtime_period = 1000000;
  r.cpu->realtime_runtime = 950000;
  auto ws = host_writes(r, false);
  EXPECT_EQ(files(ws), (std::vector<std::string>{
                           "cpu.rt_period_us=1000000", "cpu.rt_runtime_us=950000",
                           "cpu.shares=1024", "cpu.cfs_period_us=100000", "cpu.cfs_quota_us=50000",
                           "cpuset.cpus=0-1", "cpuset.mems=0"}));
  EXPECT_TRUE(ws[0].retry_after_next);  // rt_period may need rt_runtime first
  EXPECT_TRUE(ws[2].verify);            // shares read back
  EXPECT_TRUE(ws[3].retry_after_next);  // period may need the quota first
  EXPECT_EQ(ws[4].controller, "cpu");
  EXPECT_EQ(ws[5].controller, "cpuset");
  EXPECT_EQ(ws[4].field, "linux.resources.cpu.quota");
  for (size_t i = 0; i < ws.size(); ++i) EXPECT_EQ(ws[i].bandwidth, i == 3 || i == 4) << i;
}

TEST(HostWrites, PeriodAloneIsNotRetried) {
  oci::Resources r;
  r.cpu = oci::Cpu{};
  r.cpu->period = 250000;
  auto ws = host_writes(r, false);
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_FALSE(ws[0].retry_after_next);
}

TEST(HostWrites, V2CpuMaxWeightAndNoRealtime) {
  auto r = cpu_resources();
  r.cpu->realtime_runtime = 950000;
  EXPECT_EQ(files(host_writes(r, true)),
            (std::vector<std::string>{"cpu.weight=100", "cpu.max=50000 100000", "cpuset.cpus=0-1",
                                      "cpuset.mems=0"}));
  EXPECT_TRUE(host_writes(r, true)[1].bandwidth);
  oci::Resources q;
  q.cpu = oci::Cpu{};
  q.cpu->quota = -1;
  EXPECT_EQ(files(host_writes(q, true)), (std::vector<std::string>{"cpu.max=max 100000"}));
}

TEST(HostWrites, EmptyCpuWritesNothing) {
  oci::Resources r;
  r.cpu = oci::Cpu{};
  r.cpu->cpus = "";
  EXPECT_TRUE(host_writes(r, false).empty());
  EXPECT_TRUE(host_writes(oci::Resources{}, true).empty());
}

TEST(HostWrites, MemoryAndTheRestStayInTheGuest) {
  oci::Resources r;
  r.memory = oci::Memory{};
  r.memory->limit = 64 << 20;
  r.block_io = oci::BlockIo{};
  r.block_io->weight = 500;
  EXPECT_TRUE(host_writes(r, false).empty());
  EXPECT_TRUE(host_writes(r, true).empty());
}

TEST(HostWrites, PidsLimitWithTheFloor) {
  oci::Resources r;
  r.pids = oci::Pids{};
  r.pids->limit = 1000;
  EXPECT_EQ(files(host_writes(r, false)), (std::vector<std::string>{"pids.max=1000"}));
  r.pids->limit = 10;
  EXPECT_EQ(files(host_writes(r, true)),
            (std::vector<std::string>{"pids.max=" + std::to_string(kPidsFloor)}));
  r.pids->limit = 0;  // unset, as runc 1.1 and the guest read it
  EXPECT_TRUE(host_writes(r, false).empty());
}

TEST(PidsMax, FloorUnlimitedAndExact) {
  EXPECT_EQ(host_pids_max(-1), "max");
  EXPECT_EQ(host_pids_max(1), std::to_string(kPidsFloor));
  EXPECT_EQ(host_pids_max(kPidsFloor), std::to_string(kPidsFloor));
  EXPECT_EQ(host_pids_max(kPidsFloor + 1), std::to_string(kPidsFloor + 1));
  EXPECT_EQ(host_pids_max(1000), "1000");
  // runtime-tools' linux_cgroups_pids reads back exactly 1000.
  EXPECT_LE(kPidsFloor, 1000);
}

TEST(SharesClamped, RuncsWords) {
  EXPECT_EQ(shares_clamped_message(300000, 262144), "the maximum allowed cpu-shares is 262144");
  EXPECT_EQ(shares_clamped_message(1, 2), "the minimum allowed cpu-shares is 2");
}

// The merge itself is common/cgroup's (tests/unit/common/cgroup); the host
// writes what it merged.
TEST(KeepCpuMaxHalf, HostWritesTheMergedCpuMax) {
  oci::Cpu period_only;
  period_only.period = 200000;
  auto c = cgroup::keep_cpu_max_half(period_only, "50000 100000\n");
  ASSERT_TRUE(c) << c.error().what();
  oci::Resources r;
  r.cpu = *c;
  EXPECT_EQ(files(host_writes(r, true)), std::vector<std::string>{"cpu.max=50000 200000"});
}

}  // namespace
}  // namespace hull::hostcgroup
