#include "runtime/hostcgroup/paths.h"

#include <gtest/gtest.h>

namespace hull::hostcgroup {
namespace {

// This machine type: cgroup v1 hybrid, cpu and cpuacct in separate hierarchies.
constexpr const char* kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 31 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 31 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,release_agent=/x,name=systemd\n"
    "40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "41 31 0:38 / /sys/fs/cgroup/other rw,relatime - cgroup cgroup rw,name=other\n"
    "42 23 0:29 / /mnt/cpu-again rw,relatime - cgroup cgroup rw,cpu\n"
    "50 23 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";

constexpr const char* kProcCgroup =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "4:memory:/process_api/a29b\n"
    "3:cpuset:/\n"
    "2:cpuacct:/\n"
    "1:cpu:/user/x\n"
    "0::/\n";

TEST(ProcCgroup, ParsesV1AndV2Lines) {
  auto r = parse_proc_cgroup("4:memory:/a/b\n1:cpu,cpuacct:/x\n9:name=systemd:/\n0::/u\n");
  ASSERT_TRUE(r) << r.error().what();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0], (ProcCgroup{4, {"memory"}, "/a/b"}));
  EXPECT_EQ((*r)[1], (ProcCgroup{1, {"cpu", "cpuacct"}, "/x"}));
  EXPECT_EQ((*r)[2], (ProcCgroup{9, {"name=systemd"}, "/"}));
  EXPECT_EQ((*r)[3], (ProcCgroup{0, {}, "/u"}));
}

TEST(ProcCgroup, ControllersAreSortedAndPathsMayHoldColons) {
  auto r = parse_proc_cgroup("3:cpuacct,cpu:/a:b\n");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], (ProcCgroup{3, {"cpu", "cpuacct"}, "/a:b"}));
}

TEST(ProcCgroup, RefusesBrokenLinesNamingThem) {
  for (const char* bad : {"memory:/a\n", "x:memory:/a\n", "4:memory:relative\n", ":cpu:/\n"}) {
    auto r = parse_proc_cgroup(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::Invalid);
    EXPECT_NE(r.error().msg.find(std::string(bad).substr(0, 4)), std::string::npos);
  }
}

TEST(Mountinfo, FindsCgroupMountsAndTheirControllers) {
  auto r = parse_mountinfo(kHybridMountinfo);
  ASSERT_TRUE(r) << r.error().what();
  ASSERT_EQ(r->size(), 9u);
  EXPECT_EQ((*r)[0], (Hierarchy{"/sys/fs/cgroup/cpu", "/", {"cpu"}, false}));
  EXPECT_EQ((*r)[5], (Hierarchy{"/sys/fs/cgroup/systemd", "/", {"name=systemd"}, false}));
  EXPECT_EQ((*r)[6], (Hierarchy{"/sys/fs/cgroup/unified", "/", {}, true}));
}

TEST(Mountinfo, UnescapesPathsAndKeepsTheMountRoot) {
  auto r = parse_mountinfo(
      "5 1 0:9 /a\\040b /sys/fs/cgroup/my\\040cpu rw - cgroup cgroup rw,cpuacct,cpu\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0], (Hierarchy{"/sys/fs/cgroup/my cpu", "/a b", {"cpu", "cpuacct"}, false}));
}

TEST(Mountinfo, RefusesALineWithoutSeparator) {
  EXPECT_FALSE(parse_mountinfo("1 2 3:4 / /x rw cgroup\n"));
}

TEST(Joinable, HybridJoinsEveryControllerSystemdAndV2OncePerHierarchy) {
  auto all = parse_mountinfo(kHybridMountinfo);
  ASSERT_TRUE(all);
  auto j = joinable(*all);
  std::vector<std::string> names;
  for (const auto& h : j) names.push_back(hierarchy_name(h));
  EXPECT_EQ(names, (std::vector<std::string>{"cpu", "cpuacct", "cpuset", "memory", "pids",
                                             "name=systemd", "unified"}));
  EXPECT_EQ(j[0].mount_point, "/sys/fs/cgroup/cpu");  // the first mount of cpu
  EXPECT_FALSE(unified_mode(j));
}

TEST(Joinable, UnifiedModeIsTheOneTree) {
  auto all = parse_mountinfo("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
  ASSERT_TRUE(all);
  auto j = joinable(*all);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_TRUE(unified_mode(j));
}

TEST(CgroupsPath, AbsoluteRelativeAndAbsent) {
  EXPECT_EQ(*cgroups_path("/cgrouptest", false, "c1"), CgroupsPath{"/cgrouptest"});
  EXPECT_EQ(*cgroups_path("testdir/cgrouptest/container", false, "c1"),
            CgroupsPath{"testdir/cgrouptest/container"});
  EXPECT_TRUE(cgroups_path("/docker/abc", false, "abc")->absolute());
  // runc: no cgroupsPath is the container's id under the caller's cgroup.
  auto none = cgroups_path(std::nullopt, false, "c1");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->path, "c1");
  EXPECT_FALSE(none->absolute());
  EXPECT_EQ(cgroups_path("", false, "c2")->path, "c2");
}

TEST(CgroupsPath, RefusesTheHierarchyRoot) {
  for (const char* p : {"/", "/..", ".", "a/.."}) {
    auto r = cgroups_path(std::string(p), false, "c1");
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.error().code, Errc::Invalid);
    EXPECT_NE(r.error().msg.find("linux.cgroupsPath"), std::string::npos);
  }
}

TEST(CgroupsPath, SystemdSliceScopeBecomesThePlainDirectory) {
  EXPECT_EQ(cgroups_path("system.slice:docker:abc", true, "abc")->path,
            "/system.slice/docker-abc.scope");
  EXPECT_EQ(cgroups_path("kubepods-besteffort-pod1.slice:cri-containerd:x", true, "x")->path,
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
            "cri-containerd-x.scope");
  EXPECT_EQ(cgroups_path(":runc:c1", true, "c1")->path, "/system.slice/runc-c1.scope");
  EXPECT_EQ(cgroups_path("-.slice:p:n", true, "n")->path, "/p-n.scope");
  EXPECT_EQ(cgroups_path("machine.slice:x:my.slice", true, "c")->path, "/machine.slice/my.slice");
  EXPECT_EQ(cgroups_path(std::nullopt, true, "c1")->path, "/system.slice/runc-c1.scope");
}

TEST(CgroupsPath, SystemdRefusesOtherShapes) {
  auto r = cgroups_path("/docker/abc", true, "abc");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find("slice:prefix:name"), std::string::npos);
  EXPECT_FALSE(cgroups_path("bad:p:n", true, "n"));
  EXPECT_FALSE(cgroups_path("a--b.slice:p:n", true, "n"));
}

TEST(CgroupDir, AbsoluteIsBelowTheMountRelativeBelowTheCallersCgroup) {
  auto own = parse_proc_cgroup(kProcCgroup);
  ASSERT_TRUE(own);
  Hierarchy cpu{"/sys/fs/cgroup/cpu", "/", {"cpu"}, false};
  Hierarchy mem{"/sys/fs/cgroup/memory", "/", {"memory"}, false};
  Hierarchy v2{"/sys/fs/cgroup/unified", "/", {}, true};
  EXPECT_EQ(*cgroup_dir(cpu, CgroupsPath{"/cgrouptest"}, *own, false),
            "/sys/fs/cgroup/cpu/cgrouptest");
  EXPECT_EQ(*cgroup_dir(mem, CgroupsPath{"/docker/abc"}, *own, false),
            "/sys/fs/cgroup/memory/docker/abc");
  EXPECT_EQ(*cgroup_dir(cpu, CgroupsPath{"t/c"}, *own, false), "/sys/fs/cgroup/cpu/user/x/t/c");
  EXPECT_EQ(*cgroup_dir(mem, CgroupsPath{"t/c"}, *own, false),
            "/sys/fs/cgroup/memory/process_api/a29b/t/c");
  EXPECT_EQ(*cgroup_dir(v2, CgroupsPath{"t/c"}, *own, false), "/sys/fs/cgroup/unified/t/c");
}

TEST(CgroupDir, UnifiedModeRelativeGoesUnderTheCallersParent) {
  auto own = parse_proc_cgroup("0::/user.slice/session-1.scope\n");
  ASSERT_TRUE(own);
  Hierarchy v2{"/sys/fs/cgroup", "/", {}, true};
  EXPECT_EQ(*cgroup_dir(v2, CgroupsPath{"a/b"}, *own, true), "/sys/fs/cgroup/user.slice/a/b");
  EXPECT_EQ(*cgroup_dir(v2, CgroupsPath{"/a/b"}, *own, true), "/sys/fs/cgroup/a/b");
}

TEST(CgroupDir, AMountOfASubtreeStripsItsRoot) {
  Hierarchy cpu{"/sys/fs/cgroup/cpu", "/docker/ctr", {"cpu"}, false};
  std::vector<ProcCgroup> own{{1, {"cpu"}, "/docker/ctr/sub"}};
  EXPECT_EQ(*cgroup_dir(cpu, CgroupsPath{"x"}, own, false), "/sys/fs/cgroup/cpu/sub/x");
  std::vector<ProcCgroup> outside{{1, {"cpu"}, "/elsewhere"}};
  auto r = cgroup_dir(cpu, CgroupsPath{"x"}, outside, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
}

TEST(CgroupDir, RelativeNeedsTheCallersLine) {
  Hierarchy pids{"/sys/fs/cgroup/pids", "/", {"pids"}, false};
  auto r = cgroup_dir(pids, CgroupsPath{"x"}, {}, false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find("pids"), std::string::npos);
}

}  // namespace
}  // namespace hull::hostcgroup
