// DirGuard, remove_tree and MountGuard (the mount tests need root and skip without it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/sandbox/dir_guard.h"
#include "runtime/sandbox/mount_guard.h"

namespace hull::sandbox {
namespace {

namespace fs = std::filesystem;

std::string temp_root() {
  char tmpl[] = "/tmp/hull-guard-XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  return dir ? dir : "";  // "": the caller's assertion fails
}

TEST(DirGuard, RemovesTreeOnDestruction) {
  std::string root = temp_root();
  {
    auto g = DirGuard::create(root + "/box");
    ASSERT_TRUE(g);
    fs::create_directories(root + "/box/a/b/c");
    std::ofstream(root + "/box/a/b/c/file") << "x";
    fs::create_symlink("/etc", root + "/box/link-to-etc");
  }
  EXPECT_FALSE(fs::exists(root + "/box"));
  EXPECT_TRUE(fs::exists("/etc/hostname") || fs::exists("/etc"));  // the link was not followed
  fs::remove(root);
}

TEST(DirGuard, ExistingDirectoryIsNotTaken) {
  std::string root = temp_root();
  fs::create_directory(root + "/box");
  auto g = DirGuard::create(root + "/box");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::Exists);
  EXPECT_TRUE(fs::exists(root + "/box"));
  fs::remove_all(root);
}

TEST(DirGuard, ReleaseKeepsIt) {
  std::string root = temp_root();
  {
    auto g = DirGuard::create(root + "/box");
    ASSERT_TRUE(g);
    EXPECT_EQ(g->release(), root + "/box");
  }
  EXPECT_TRUE(fs::exists(root + "/box"));
  fs::remove_all(root);
}

// What a guest can leave in its share: a tree 1000 levels deep (deeper than
// PATH_MAX, so it is made with mkdirat), wide directories, names with
// newlines, spaces, non-UTF-8 bytes and leading dashes, unreadable modes.
TEST(RemoveTree, DeepWideAndWeirdTreesGo) {
  std::string box = temp_root();
  ASSERT_FALSE(box.empty());
  int dfd = ::open(box.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dfd, 0);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(::mkdirat(dfd, "dddddddddd", 0700), 0) << i;
    int sub = ::openat(dfd, "dddddddddd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(sub, 0);
    if (i % 100 == 0) {
      for (const char* n : {"a\nb", " ", "-rf", "\xff\xfe", "...", "x y z"}) {
        int f = ::openat(sub, n, O_WRONLY | O_CREAT | O_CLOEXEC, 0000);
        ASSERT_GE(f, 0) << n;
        ::close(f);
      }
      ASSERT_EQ(::symlinkat("/etc/passwd", sub, "link"), 0);
    }
    ::close(dfd);
    dfd = sub;
  }
  ::fchmod(dfd, 0);
  ::close(dfd);
  std::filesystem::create_directories(box + "/wide");
  for (int i = 0; i < 2000; ++i) std::ofstream(box + "/wide/f" + std::to_string(i)) << i;
  std::filesystem::create_directories(box + "/wide/sub/deeper");
  auto st = remove_tree(box);
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_FALSE(std::filesystem::exists(box));
  EXPECT_TRUE(std::filesystem::exists("/etc/passwd"));
}

TEST(RemoveTree, MissingIsFine) {
  EXPECT_TRUE(remove_tree("/tmp/hull-guard-does-not-exist"));
}

TEST(MakeDirs, CreatesEachLevel) {
  std::string root = temp_root();
  EXPECT_TRUE(make_dirs(root + "/a/b/c"));
  EXPECT_TRUE(fs::is_directory(root + "/a/b/c"));
  EXPECT_TRUE(make_dirs(root + "/a/b/c"));
  EXPECT_FALSE(make_dirs("relative/x"));
  fs::remove_all(root);
}

class MountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount)";
    root_ = temp_root();
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }
  std::string root_;
};

TEST_F(MountTest, SharedMountIsAMountPointUntilGuardEnds) {
  std::string dir = root_ + "/shared";
  fs::create_directory(dir);
  {
    auto m = make_shared_mount(dir);
    ASSERT_TRUE(m) << m.error().what();
    EXPECT_TRUE(is_mount_point(dir));
    // mountinfo shows "shared:<n>" among the optional fields.
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    bool shared = false;
    while (std::getline(in, line)) {
      if (line.find(" " + dir + " ") != std::string::npos &&
          line.find("shared:") != std::string::npos) {
        shared = true;
      }
    }
    EXPECT_TRUE(shared);
  }
  EXPECT_FALSE(is_mount_point(dir));
}

TEST_F(MountTest, RemoveTreeRefusesToEnterAMount) {
  std::string box = root_ + "/box";
  std::string outside = root_ + "/precious";
  fs::create_directories(box + "/shared/rootfs");
  fs::create_directories(outside);
  std::ofstream(outside + "/keep") << "x";
  // A bind mount from the same file system: same st_dev, different mount id.
  ASSERT_EQ(::mount(outside.c_str(), (box + "/shared/rootfs").c_str(), nullptr, MS_BIND, nullptr),
            0);
  MountGuard m(box + "/shared/rootfs");
  auto st = remove_tree(box);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidState) << st.error().what();
  EXPECT_TRUE(fs::exists(outside + "/keep"));
  EXPECT_TRUE(m.unmount());
  EXPECT_TRUE(remove_tree(box));
  EXPECT_FALSE(fs::exists(box));
  EXPECT_TRUE(fs::exists(outside + "/keep"));
}

TEST_F(MountTest, UnmountTwiceIsFine) {
  std::string dir = root_ + "/m";
  fs::create_directory(dir);
  auto m = make_shared_mount(dir);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->unmount());
  EXPECT_TRUE(m->unmount());
}

TEST(MountPointsBelow, RelativeUnescapedSortedOnce) {
  std::string info =
      "22 1 0:21 / /srv rw - tmpfs t rw\n"
      "30 22 0:30 / /srv/vol/b rw - tmpfs t rw\n"
      "31 30 0:31 / /srv/vol/b/c\\040d rw - tmpfs t rw\n"
      "32 22 0:32 / /srv/vol/a rw - tmpfs t rw\n"
      "33 22 0:33 / /srv/vol/a rw - tmpfs t rw\n"
      "34 22 0:34 / /srv/volume rw - tmpfs t rw\n"
      "35 22 0:35 / /srv/vol rw - tmpfs t rw\n";
  EXPECT_EQ(mount_points_below(info, "/srv/vol"), (std::vector<std::string>{"a", "b", "b/c d"}));
  EXPECT_TRUE(mount_points_below(info, "/nowhere").empty());
}

}  // namespace
}  // namespace hull::sandbox
