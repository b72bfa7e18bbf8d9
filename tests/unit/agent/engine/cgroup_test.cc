// cgroup v2: the Cgroup class on a scratch directory laid out like cgroupfs
// (the build hosts run cgroup v1; real limits are checked in the VM tests).
// The pure rules it writes by are tested in tests/unit/common/cgroup.
#include "agent/engine/cgroup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "tests/unit/agent/engine/fixture.h"

namespace hull::engine {
namespace {

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

// `hull update --cpu-period N` (or --cpu-quota alone) reaches the guest as a
// resources object with one half of cpu.max: the other half stays what the
// file holds, as the host cgroup keeps it. Before, the guest wrote "max N",
// lifting the container's CPU quota.
TEST_F(FakeCgroupFs, UpdateKeepsTheOtherHalfOfCpuMax) {
  std::string c = root_ + "/c";
  std::filesystem::create_directories(c);
  populate(c);
  put(c + "/cpu.max", "50000 100000\n");
  auto cg = Cgroup::open(root_, "/c");
  oci::Resources period_only;
  period_only.cpu.emplace();
  period_only.cpu->period = 200000;
  ASSERT_TRUE(cg.update(period_only));
  EXPECT_EQ(get(c + "/cpu.max"), "50000 200000");

  put(c + "/cpu.max", "50000 200000\n");
  oci::Resources quota_only;
  quota_only.cpu.emplace();
  quota_only.cpu->quota = 30000;
  ASSERT_TRUE(cg.update(quota_only));
  EXPECT_EQ(get(c + "/cpu.max"), "30000 200000");

  put(c + "/cpu.max", "max 100000\n");
  ASSERT_TRUE(cg.update(period_only));
  EXPECT_EQ(get(c + "/cpu.max"), "max 200000");

  put(c + "/cpu.max", "garbage\n");
  auto bad = cg.update(period_only);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::Invalid);
}

TEST_F(FakeCgroupFs, RemoveOfMissingCgroupIsSuccess) {
  auto cg = Cgroup::open(root_, "/gone");
  EXPECT_TRUE(cg.remove(std::chrono::milliseconds(10)));
}

}  // namespace
}  // namespace hull::engine
