#include "agent/init/mounts.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"

namespace hull::agent::init {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(BaseMounts, EveryFilesystemPid1NeedsInParentFirstOrder) {
  auto mounts = base_mounts();
  std::vector<std::string> targets;
  for (const auto& m : mounts) targets.push_back(m.target);
  EXPECT_THAT(targets, ElementsAre("/proc", "/sys", "/dev", "/dev/pts", "/dev/shm",
                                   "/sys/fs/cgroup", "/run"));
  // A mount under another one's target (/dev/pts under /dev) comes after it.
  for (size_t i = 0; i < mounts.size(); ++i) {
    for (size_t j = i + 1; j < mounts.size(); ++j) {
      EXPECT_FALSE(mounts[i].target.starts_with(mounts[j].target + "/"))
          << mounts[i].target << " is mounted before " << mounts[j].target;
    }
  }
  const MountSpec& devpts = mounts[3];
  EXPECT_EQ(devpts.fstype, "devpts");
  EXPECT_THAT(devpts.data, HasSubstr("newinstance"));
  EXPECT_THAT(devpts.data, HasSubstr("ptmxmode=0666"));
  EXPECT_EQ(mounts[5].fstype, "cgroup2");
  for (const auto& m : mounts) EXPECT_TRUE(m.flags & MS_NOSUID) << m.target;
}

TEST(Controllers, ParseTheControllersFile) {
  EXPECT_THAT(parse_controllers("cpuset cpu io memory hugetlb pids\n"),
              ElementsAre("cpuset", "cpu", "io", "memory", "hugetlb", "pids"));
  EXPECT_THAT(parse_controllers(""), ElementsAre());
  EXPECT_THAT(parse_controllers("\n"), ElementsAre());
  EXPECT_THAT(parse_controllers("  memory\tpids  "), ElementsAre("memory", "pids"));
}

class EnableControllersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-agent-cgroup.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(EnableControllersTest, WritesEachControllerListed) {
  ASSERT_TRUE(write_file_atomic(dir_ + "/cgroup.controllers", "cpu memory pids\n"));
  ASSERT_TRUE(write_file_atomic(dir_ + "/cgroup.subtree_control", ""));
  auto r = enable_all_controllers(dir_);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_THAT(*r, ElementsAre("cpu", "memory", "pids"));
  // One write per controller, each at offset 0 as cgroupfs expects: a plain file shows the
  // last one over the longer ones before it.
  EXPECT_EQ(read_file(dir_ + "/cgroup.subtree_control", 100).value_or(""), "+pidsry");
}

TEST_F(EnableControllersTest, NamesWhatCouldNotBeEnabled) {
  ASSERT_TRUE(write_file_atomic(dir_ + "/cgroup.controllers", "cpu io\n"));
  ASSERT_EQ(::mkdir((dir_ + "/cgroup.subtree_control").c_str(), 0755), 0);
  auto r = enable_all_controllers(dir_);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().what(), HasSubstr("cgroup.subtree_control"));
  EXPECT_THAT(r.error().what(), HasSubstr("; "));  // both failures reported
}

TEST_F(EnableControllersTest, MissingControllersFileIsAnError) {
  auto r = enable_all_controllers(dir_);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().what(), HasSubstr("cgroup.controllers"));
}

TEST_F(EnableControllersTest, MountAllCreatesTargetsAndStopsAtTheFirstFailure) {
  // An unknown filesystem type cannot be mounted anywhere, as root or not.
  std::vector<MountSpec> mounts = {
      {"none", dir_ + "/a/first", "hull-no-such-fs", 0, "", 0700},
      {"none", dir_ + "/second", "hull-no-such-fs", 0, "", 0700},
  };
  auto st = mount_all(mounts);
  ASSERT_FALSE(st);
  // The parent dir does not exist, so mkdir of the target fails and names it.
  EXPECT_THAT(st.error().what(), HasSubstr("mkdir " + dir_ + "/a/first"));
  mounts.erase(mounts.begin());
  st = mount_all(mounts);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().what(), HasSubstr("mount hull-no-such-fs on " + dir_ + "/second"));
  struct stat s {};
  ASSERT_EQ(::stat((dir_ + "/second").c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0700u);
}

}  // namespace
}  // namespace hull::agent::init
