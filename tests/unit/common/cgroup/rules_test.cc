// The pure cgroup v2 rules (common/cgroup): conversions, linux.resources ->
// file writes, cgroupsPath, stat parsers.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/cgroup/path.h"
#include "common/cgroup/resources.h"
#include "common/cgroup/stats.h"

namespace hull::cgroup {
namespace {

std::map<std::string, std::string> writes_of(const oci::Resources& r) {
  auto w = writes(r);
  EXPECT_TRUE(w) << (w ? "" : w.error().what());
  std::map<std::string, std::string> out;
  if (w) {
    for (const auto& x : *w) out[x.file] += (out[x.file].empty() ? "" : "|") + x.value;
  }
  return out;
}

TEST(CgroupConvert, CpuSharesToWeight) {
  EXPECT_EQ(cpu_shares_to_weight(0), 0u);
  EXPECT_EQ(cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(cpu_shares_to_weight(1024), 100u);
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(cpu_shares_to_weight(512), 59u);
  EXPECT_EQ(cpu_shares_to_weight(2048), 174u);
}

TEST(CgroupConvert, BlkioWeight) {
  EXPECT_EQ(blkio_weight_to_io_weight(0), 0u);
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
}

TEST(CgroupConvert, MemorySwap) {
  EXPECT_EQ(memory_swap_to_v2(0, -1).value(), -1);
  EXPECT_EQ(memory_swap_to_v2(-1, 1000).value(), -1);
  EXPECT_EQ(memory_swap_to_v2(0, 1000).value(), 0);
  EXPECT_EQ(memory_swap_to_v2(3000, 1000).value(), 2000);
  EXPECT_EQ(memory_swap_to_v2(1000, 1000).value(), 0);
  EXPECT_EQ(memory_swap_to_v2(500, 1000).error().msg,
            "memory+swap limit should be >= memory limit");
  EXPECT_EQ(memory_swap_to_v2(500, 0).error().msg, "unable to set swap limit without memory limit");
}

TEST(CgroupWrites, Memory) {
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 1 << 20;
  r.memory->swap = 3 << 20;
  r.memory->reservation = 1 << 19;
  auto w = writes_of(r);
  EXPECT_EQ(w["memory.max"], "1048576");
  EXPECT_EQ(w["memory.swap.max"], "2097152");
  EXPECT_EQ(w["memory.low"], "524288");
  r.memory->swap = 1 << 20;  // swap == limit: no swap
  EXPECT_EQ(writes_of(r)["memory.swap.max"], "0");
  r.memory->limit = -1;
  r.memory->swap.reset();
  w = writes_of(r);
  EXPECT_EQ(w["memory.max"], "max");
  EXPECT_EQ(w["memory.swap.max"], "max");
  r.memory->limit = 1000;
  r.memory->swap = 10;
  auto bad = writes(r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().msg,
            "linux.resources.memory.swap: memory+swap limit should be >= memory limit");
}

TEST(CgroupWrites, CpuPidsIoHugetlbUnified) {
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids.emplace();
  r.pids->limit = 100;
  r.block_io.emplace();
  r.block_io->weight = 500;
  r.block_io->throttle_read_bps_device =
      std::vector<oci::ThrottleDevice>{{8, 0, 1048576, oci::Json::object()}};
  r.hugepage_limits = std::vector<oci::HugepageLimit>{{"2MB", 4194304, oci::Json::object()}};
  r.unified = oci::StringMap{{"memory.high", "900000"}};
  auto w = writes_of(r);
  EXPECT_EQ(w["cpu.weight"], "100");
  EXPECT_EQ(w["cpu.max"], "50000 100000");
  EXPECT_EQ(w["cpuset.cpus"], "0-1");
  EXPECT_EQ(w["cpuset.mems"], "0");
  EXPECT_EQ(w["pids.max"], "100");
  EXPECT_EQ(w["io.weight"], "4950");
  EXPECT_EQ(w["io.max"], "8:0 rbps=1048576");
  EXPECT_EQ(w["hugetlb.2MB.max"], "4194304");
  EXPECT_EQ(w["memory.high"], "900000");

  oci::Resources q;
  q.cpu.emplace();
  q.cpu->quota = -1;
  q.cpu->period = 200000;
  q.pids.emplace();
  q.pids->limit = -1;
  w = writes_of(q);
  EXPECT_EQ(w["cpu.max"], "max 200000");
  EXPECT_EQ(w["pids.max"], "max");
}

TEST(CgroupWrites, ErrorsNameTheField) {
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->realtime_runtime = 1000;
  auto e = writes(r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::Unsupported);
  r = {};
  r.unified = oci::StringMap{{"../escape", "1"}};
  EXPECT_EQ(writes(r).error().msg,
            "linux.resources.unified.../escape: not a cgroup v2 interface file name");
  r = {};
  r.unified = oci::StringMap{{"cgroup.procs", "1"}};
  EXPECT_FALSE(writes(r));
  r = {};
  r.hugepage_limits = std::vector<oci::HugepageLimit>{{"2mb", 1, oci::Json::object()}};
  EXPECT_EQ(writes(r).error().msg,
            "linux.resources.hugepageLimits[0].pageSize: not a page size like \"2MB\": \"2mb\"");
  r = {};
  r.block_io.emplace();
  r.block_io->weight = 5;
  EXPECT_EQ(writes(r).error().msg, "linux.resources.blockIO.weight: must be in [10, 1000]");
}

TEST(CgroupPath, DefaultsAndPlainPaths) {
  EXPECT_EQ(vm_path(std::nullopt, "abc").value(), "/hull/abc");
  EXPECT_EQ(vm_path(std::string(""), "abc").value(), "/hull/abc");
  EXPECT_EQ(vm_path(std::string("/a/b"), "x").value(), "/a/b");
  EXPECT_EQ(vm_path(std::string("a//b/./c/"), "x").value(), "/a/b/c");
  EXPECT_EQ(vm_path(std::string("/a/../etc"), "x").error().msg,
            "linux.cgroupsPath: must not contain \"..\": \"/a/../etc\"");
  EXPECT_FALSE(vm_path(std::string("/"), "x"));
}

TEST(CgroupPath, SystemdStyle) {
  EXPECT_EQ(vm_path(std::string("system.slice:docker:abc"), "x").value(),
            "/system.slice/docker-abc.scope");
  EXPECT_EQ(vm_path(std::string("kubepods-besteffort-pod1.slice:cri-containerd:abc"), "x").value(),
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
            "cri-containerd-abc.scope");
  EXPECT_EQ(vm_path(std::string(":hull:abc"), "x").value(), "/system.slice/hull-abc.scope");
  EXPECT_EQ(vm_path(std::string("-.slice:p:n"), "x").value(), "/p-n.scope");
  EXPECT_EQ(vm_path(std::string("a.slice:p:sub.slice"), "x").value(), "/a.slice/sub.slice");
  EXPECT_FALSE(vm_path(std::string("notaslice:p:n"), "x"));
  EXPECT_FALSE(vm_path(std::string("a:b"), "x"));
  EXPECT_FALSE(vm_path(std::string("a--b.slice:p:n"), "x"));
}

TEST(CgroupStats, Parsers) {
  auto m = parse_flat_keyed("usage_usec 100\nuser_usec 60\nsystem_usec 40\n");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["usage_usec"], 100u);
  EXPECT_EQ(m->size(), 3u);
  EXPECT_FALSE(parse_flat_keyed("usage_usec x\n"));
  EXPECT_FALSE(parse_flat_keyed("novalue\n"));
  EXPECT_EQ(parse_single_value("max\n").value(), std::nullopt);
  EXPECT_EQ(parse_single_value("4096\n").value(), std::optional<uint64_t>(4096));
  EXPECT_FALSE(parse_single_value("-1"));
  auto io = parse_io_stat("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n253:1 rbytes=5\n");
  ASSERT_TRUE(io);
  ASSERT_EQ(io->size(), 2u);
  EXPECT_EQ((*io)[0].major, 8u);
  EXPECT_EQ((*io)[0].fields["wios"], 4u);
  EXPECT_EQ((*io)[1].minor, 1u);
  EXPECT_FALSE(parse_io_stat("8-0 rbytes=1\n"));
  EXPECT_FALSE(parse_io_stat("8:0 rbytes\n"));
}

TEST(SharesToWeight, AsRunc) {
  EXPECT_EQ(cpu_shares_to_weight(0), 0u);
  EXPECT_EQ(cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(cpu_shares_to_weight(1024), 100u);
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(cpu_shares_to_weight(512), 59u);
}

TEST(KeepCpuMaxHalf, KeepsTheHalfNotGiven) {
  oci::Cpu period_only;
  period_only.period = 200000;
  auto c = keep_cpu_max_half(period_only, "50000 100000\n");
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->quota, 50000);
  EXPECT_EQ(c->period, 200000u);
  oci::Resources r;
  r.cpu = *c;
  EXPECT_EQ(cpu_max(*r.cpu), "50000 200000");

  c = keep_cpu_max_half(period_only, "max 100000");
  ASSERT_TRUE(c);
  r.cpu = *c;
  EXPECT_EQ(cpu_max(*r.cpu), "max 200000");

  oci::Cpu quota_only;
  quota_only.quota = 30000;
  quota_only.period = 0;
  c = keep_cpu_max_half(quota_only, "max 250000");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->period, 250000u);
  r.cpu = *c;
  EXPECT_EQ(cpu_max(*r.cpu), "30000 250000");
}

TEST(KeepCpuMaxHalf, LeavesBothOrNeitherAsGiven) {
  oci::Cpu both;
  both.quota = 10000;
  both.period = 20000;
  EXPECT_EQ(keep_cpu_max_half(both, "max 100000"), both);
  oci::Cpu neither;
  neither.shares = 512;
  EXPECT_EQ(keep_cpu_max_half(neither, "garbage"), neither);
}

TEST(KeepCpuMaxHalf, RefusesAFileItCannotRead) {
  oci::Cpu period_only;
  period_only.period = 200000;
  for (const char* bad : {"", "max", "x 100000", "-5 100000", " 100000"}) {
    auto c = keep_cpu_max_half(period_only, bad);
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().code, Errc::Invalid);
  }
  oci::Cpu quota_only;
  quota_only.quota = 1000;
  EXPECT_FALSE(keep_cpu_max_half(quota_only, "max"));
  EXPECT_FALSE(keep_cpu_max_half(quota_only, "max 0"));
}

TEST(CleanPath, AsRuncCleansIt) {
  EXPECT_EQ(clean_path(""), "");
  EXPECT_EQ(clean_path("/a//b/./c/"), "/a/b/c");
  EXPECT_EQ(clean_path("/../../a"), "/a");
  EXPECT_EQ(clean_path("../../a/b"), "a/b");
  EXPECT_EQ(clean_path("a/../../b"), "b");
  EXPECT_EQ(clean_path("/"), "/");
}

TEST(ExpandSlice, AsSystemd) {
  EXPECT_EQ(*expand_slice("a-b-c.slice"), "/a.slice/a-b.slice/a-b-c.slice");
  EXPECT_EQ(*expand_slice("-.slice"), "/");
  EXPECT_FALSE(expand_slice(".slice"));
  EXPECT_FALSE(expand_slice("a/b.slice"));
  EXPECT_FALSE(expand_slice("-a.slice"));
}

TEST(SystemdPath, DefaultUnitAndRuncsWords) {
  EXPECT_EQ(*systemd_path("", "c1"), "/system.slice/runc-c1.scope");
  EXPECT_EQ(*systemd_path("a.slice:p:n", "x"), "/a.slice/p-n.scope");
  auto r = systemd_path("/docker/abc", "abc");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().msg,
            "expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got "
            "\"/docker/abc\" instead");
  EXPECT_FALSE(systemd_path("a.slice:p:", "x"));
  EXPECT_TRUE(systemd_form("a:b:c"));
  EXPECT_FALSE(systemd_form("/a:b:c"));
  EXPECT_FALSE(systemd_form("a/b"));
}

TEST(CgroupStats, Procs) {
  EXPECT_EQ(parse_procs("12\n345\n").value(), (std::vector<pid_t>{12, 345}));
  EXPECT_EQ(parse_procs("").value(), std::vector<pid_t>{});
  EXPECT_FALSE(parse_procs("12\nx\n"));
  EXPECT_FALSE(parse_procs("0\n"));
  EXPECT_FALSE(parse_procs("99999999999\n"));
}

TEST(CpuMax, QuotaPeriodOrNeither) {
  oci::Cpu c;
  EXPECT_EQ(cpu_max(c), "");
  c.quota = 50000;
  EXPECT_EQ(cpu_max(c), "50000 100000");
  c.quota = -1;
  c.period = 250000;
  EXPECT_EQ(cpu_max(c), "max 250000");
}

// exec --cgroup: runc's argument forms, mapped onto the VM's one cgroup v2 tree.
TEST(ExecSubCgroup, RuncsFormsOnOneTree) {
  EXPECT_EQ(exec_sub_cgroup({}), "");
  EXPECT_EQ(exec_sub_cgroup({"sub"}), "sub");
  EXPECT_EQ(exec_sub_cgroup({"/a/./b//c"}), "a/b/c");
  EXPECT_EQ(exec_sub_cgroup({"a/../b"}), "b");
  EXPECT_EQ(exec_sub_cgroup({"."}), "");
  EXPECT_EQ(exec_sub_cgroup({"cpu:sub"}), "sub");
  EXPECT_EQ(exec_sub_cgroup({"cpu,memory:sub", "pids:/sub/"}), "sub");
  auto refused = [](std::vector<std::string> args, const std::string& what) {
    auto r = exec_sub_cgroup(args);
    ASSERT_FALSE(r) << args[0];
    EXPECT_EQ(r.error().code, Errc::Invalid);
    EXPECT_NE(r.error().msg.find(what), std::string::npos) << r.error().msg;
  };
  refused({"../up"}, "bad sub cgroup path: ../up");
  refused({"a/../../up"}, "bad sub cgroup path");
  refused({"cpu:.."}, "bad sub cgroup path");
  refused({"a", "b"}, "invalid --cgroup argument: a (missing <controller>: prefix)");
  refused({"cpu:a", "b"}, "(missing <controller>: prefix)");
  refused({":a"}, "invalid --cgroup argument: :a (empty <controller> prefix)");
  refused({"cpu,:a"}, "(empty <controller> prefix)");
  refused({"cpu:a", "cpu:a"}, "controller cpu specified multiple times");
  refused({"bogus:a"}, "(unknown controller bogus)");
  refused({"cpu:a", "memory:b"}, "give all controllers the same sub-cgroup");
}

}  // namespace
}  // namespace hull::cgroup
