#include "shim/mounts.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/sandbox/mount_guard.h"

namespace hull::shim {
namespace {

TEST(ShimMounts, OverlayOptionsBecomeData) {
  auto p = plan_mount(
      {"overlay", "overlay", {"index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2"}});
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_EQ(p->flags, 0u);
  EXPECT_EQ(p->data, "index=off,workdir=/w,upperdir=/u,lowerdir=/l1:/l2");
  EXPECT_FALSE(p->remount_readonly);
}

TEST(ShimMounts, FlagsSetAndClearInOrder) {
  auto p = plan_mount({"bind", "/src", {"rbind", "ro", "nosuid", "rw", "ro", "nodev"}});
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_EQ(p->flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV);
  EXPECT_TRUE(p->remount_readonly);
  EXPECT_EQ(p->data, "");
  auto rw = plan_mount({"bind", "/src", {"bind", "ro", "rw"}});
  ASSERT_TRUE(rw);
  EXPECT_EQ(rw->flags, static_cast<unsigned long>(MS_BIND));
  EXPECT_FALSE(rw->remount_readonly);
}

TEST(ShimMounts, PropagationIsApartFromTheFlags) {
  auto p = plan_mount({"bind", "/s", {"bind", "rslave"}});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->flags, static_cast<unsigned long>(MS_BIND));
  EXPECT_EQ(p->propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
}

TEST(ShimMounts, LoopIsUnsupported) {
  auto p = plan_mount({"ext4", "/img", {"loop", "ro"}});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::Unsupported);
  EXPECT_NE(p.error().msg.find("\"loop\""), std::string::npos);
}

TEST(ShimMounts, DataLongerThanAPageIsRefused) {
  std::string lower = "lowerdir=" + std::string(5000, 'a');
  auto p = plan_mount({"overlay", "overlay", {lower}});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::Invalid);
  EXPECT_NE(p.error().msg.find("5009 bytes"), std::string::npos);
}

TEST(ShimMounts, NoMountsIsNothingToDo) {
  auto r = RootfsMounts::mount_all({}, "/nonexistent");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_TRUE(r->unmount());
  EXPECT_TRUE(unmount_all("/nonexistent/not/mounted"));
}

// Two layers stacked on one target, as two rootfs mounts make them: both go.
TEST(ShimMounts, MountsInOrderAndDetachesEveryLayer) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  char tmpl[] = "/tmp/hull-shim-mounts.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    auto r = RootfsMounts::mount_all(
        {{"tmpfs", "tmpfs", {"size=1m", "nosuid"}}, {"tmpfs", "tmpfs", {"size=1m", "mode=0700"}}},
        dir);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_TRUE(sandbox::is_mount_point(dir));
    std::ofstream(dir + "/f") << "x";
    EXPECT_TRUE(r->unmount());
    EXPECT_FALSE(sandbox::is_mount_point(dir));
    EXPECT_FALSE(std::filesystem::exists(dir + "/f"));
  }
  {
    // A failing mount undoes the ones before it.
    auto r =
        RootfsMounts::mount_all({{"tmpfs", "tmpfs", {"size=1m"}}, {"no-such-fs", "none", {}}}, dir);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().msg.find("no-such-fs"), std::string::npos);
    EXPECT_FALSE(sandbox::is_mount_point(dir));
  }
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace hull::shim
