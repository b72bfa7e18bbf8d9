// cgroup v2: the pure conversions and parsers, and the Cgroup class on a
// scratch directory laid out like cgroupfs (the build hosts run cgroup v1;
// real limits are checked in the VM tests).
#include "agent/engine/cgroup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "tests/unit/agent-engine/fixture.h"

namespace hull::engine {
namespace {

std::map<std::string, std::string> writes_of(const oci::Resources& r) {
  auto w = cgroup_writes(r);
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
  auto bad = cgroup_writes(r);
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
  auto e = cgroup_writes(r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::Unsupported);
  r = {};
  r.unified = oci::StringMap{{"../escape", "1"}};
  EXPECT_EQ(cgroup_writes(r).error().msg,
            "linux.resources.unified.../escape: not a cgroup v2 interface file name");
  r = {};
  r.unified = oci::StringMap{{"cgroup.procs", "1"}};
  EXPECT_FALSE(cgroup_writes(r));
  r = {};
  r.hugepage_limits = std::vector<oci::HugepageLimit>{{"2mb", 1, oci::Json::object()}};
  EXPECT_EQ(cgroup_writes(r).error().msg,
            "linux.resources.hugepageLimits[0].pageSize: not a page size like \"2MB\": \"2mb\"");
  r = {};
  r.block_io.emplace();
  r.block_io->weight = 5;
  EXPECT_EQ(cgroup_writes(r).error().msg, "linux.resources.blockIO.weight: must be in [10, 1000]");
}

TEST(CgroupPath, DefaultsAndPlainPaths) {
  EXPECT_EQ(cgroup_relative_path(std::nullopt, "abc").value(), "/hull/abc");
  EXPECT_EQ(cgroup_relative_path(std::string(""), "abc").value(), "/hull/abc");
  EXPECT_EQ(cgroup_relative_path(std::string("/a/b"), "x").value(), "/a/b");
  EXPECT_EQ(cgroup_relative_path(std::string("a//b/./c/"), "x").value(), "/a/b/c");
  EXPECT_EQ(cgroup_relative_path(std::string("/a/../etc"), "x").error().msg,
            "linux.cgroupsPath: must not contain \"..\": \"/a/../etc\"");
  EXPECT_FALSE(cgroup_relative_path(std::string("/"), "x"));
}

TEST(CgroupPath, SystemdStyle) {
  EXPECT_EQ(cgroup_relative_path(std::string("system.slice:docker:abc"), "x").value(),
            "/system.slice/docker-abc.scope");
  EXPECT_EQ(
      cgroup_relative_path(std::string("kubepods-besteffort-pod1.slice:cri-containerd:abc"), "x")
          .value(),
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
      "cri-containerd-abc.scope");
  EXPECT_EQ(cgroup_relative_path(std::string(":hull:abc"), "x").value(),
            "/system.slice/hull-abc.scope");
  EXPECT_EQ(cgroup_relative_path(std::string("-.slice:p:n"), "x").value(), "/p-n.scope");
  EXPECT_EQ(cgroup_relative_path(std::string("a.slice:p:sub.slice"), "x").value(),
            "/a.slice/sub.slice");
  EXPECT_FALSE(cgroup_relative_path(std::string("notaslice:p:n"), "x"));
  EXPECT_FALSE(cgroup_relative_path(std::string("a:b"), "x"));
  EXPECT_FALSE(cgroup_relative_path(std::string("a--b.slice:p:n"), "x"));
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

// A directory shaped like a cgroup v2 mount with the container's cgroup.
class FakeCgroupFs : public testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() + "/cg";
    std::filesystem::create_directories(root_);
    put(root_ + "/cgroup.controllers", "cpu memory pids\n");
    put(root_ + "/cgroup.subtree_control", "");
  }
  static void put(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  static std::string get(const std::string& path) {
    return read_file(path, 1 << 20).value_or("<missing>");
  }
  // What the kernel creates with the directory.
  void populate(const std::string& dir) {
    for (const char* f : {"cgroup.controllers", "cgroup.subtree_control", "cgroup.procs",
                          "cgroup.freeze", "cgroup.kill", "memory.max", "memory.low",
                          "memory.swap.max", "cpu.weight", "cpu.max", "pids.max"}) {
      put(dir + "/" + f, "");
    }
  }
  test::TempDir dir_;
  std::string root_;
};

TEST_F(FakeCgroupFs, CreateEnablesControllersAndApplies) {
  std::filesystem::create_directories(root_ + "/hull");
  populate(root_ + "/hull");
  put(root_ + "/hull/cgroup.controllers", "cpu memory\n");
  std::filesystem::create_directories(root_ + "/hull/c1");
  populate(root_ + "/hull/c1");
  auto cg = Cgroup::create(root_, "/hull/c1");
  ASSERT_TRUE(cg) << cg.error().what();
  EXPECT_EQ(cg->path(), root_ + "/hull/c1");
  EXPECT_EQ(get(root_ + "/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(get(root_ + "/hull/cgroup.subtree_control"), "+cpu +memory");
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 4096;
  r.cpu.emplace();
  r.cpu->shares = 1024;
  r.pids.emplace();
  r.pids->limit = 7;
  ASSERT_TRUE(cg->apply(r));
  EXPECT_EQ(get(cg->path() + "/memory.max"), "4096");
  EXPECT_EQ(get(cg->path() + "/cpu.weight"), "100");
  EXPECT_EQ(get(cg->path() + "/pids.max"), "7");
  ASSERT_TRUE(cg->add_pid(1234));
  EXPECT_EQ(get(cg->path() + "/cgroup.procs"), "1234");
}

TEST_F(FakeCgroupFs, MissingControllerFileNamesTheField) {
  std::filesystem::create_directories(root_ + "/c");
  auto cg = Cgroup::open(root_, "/c");
  oci::Resources r;
  r.pids.emplace();
  r.pids->limit = 3;
  auto st = cg.apply(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().sys_errno, ENOENT);
  EXPECT_EQ(st.error().msg.rfind("linux.resources.pids.limit: open ", 0), 0u) << st.error().msg;
}

TEST_F(FakeCgroupFs, StatsFreezeKill) {
  std::string c = root_ + "/c";
  std::filesystem::create_directories(c);
  populate(c);
  put(c + "/cpu.stat", "usage_usec 10\nuser_usec 7\nsystem_usec 3\n");
  put(c + "/memory.current", "8192\n");
  put(c + "/memory.max", "max\n");
  put(c + "/memory.stat", "anon 4096\nfile 4096\n");
  put(c + "/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");
  put(c + "/pids.current", "3\n");
  put(c + "/pids.max", "100\n");
  put(c + "/io.stat", "8:0 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
  put(c + "/cgroup.events", "populated 1\nfrozen 1\n");
  auto cg = Cgroup::open(root_, "/c");
  auto s = cg.stats();
  ASSERT_TRUE(s) << s.error().what();
  EXPECT_EQ(s->cpu["usage_usec"], 10u);
  EXPECT_EQ(s->memory_current, 8192u);
  EXPECT_EQ(s->memory_max, std::nullopt);
  EXPECT_EQ(s->memory["anon"], 4096u);
  EXPECT_EQ(s->memory_events["oom_kill"], 1u);
  EXPECT_EQ(s->pids_current, 3u);
  EXPECT_EQ(s->pids_max, std::optional<uint64_t>(100));
  ASSERT_EQ(s->io.size(), 1u);
  EXPECT_EQ(s->io[0].fields["rbytes"], 512u);

  ASSERT_TRUE(cg.freeze(std::chrono::milliseconds(500)));
  EXPECT_EQ(get(c + "/cgroup.freeze"), "1");
  auto thaw = cg.thaw(std::chrono::milliseconds(50));  // events still say frozen 1
  ASSERT_FALSE(thaw);
  EXPECT_EQ(thaw.error().code, Errc::Timeout);
  EXPECT_FALSE(cg.wait_empty(std::chrono::milliseconds(30)));
  put(c + "/cgroup.events", "populated 0\nfrozen 0\n");
  EXPECT_TRUE(cg.wait_empty(std::chrono::milliseconds(30)));

  ASSERT_TRUE(cg.kill_all(SIGKILL));
  EXPECT_EQ(get(c + "/cgroup.kill"), "1");
}

TEST_F(FakeCgroupFs, RemoveOfMissingCgroupIsSuccess) {
  auto cg = Cgroup::open(root_, "/gone");
  EXPECT_TRUE(cg.remove(std::chrono::milliseconds(10)));
}

}  // namespace
}  // namespace hull::engine
