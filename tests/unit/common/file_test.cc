#include "common/file.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace hull {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-file-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(FileTest, AtomicWriteThenRead) {
  std::string p = dir_ + "/state.json";
  ASSERT_TRUE(write_file_atomic(p, "one"));
  ASSERT_TRUE(write_file_atomic(p, "two", 0600));
  auto r = read_file(p, 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "two");
  struct stat st {};
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(FileTest, ReadRefusesOversizedFile) {
  std::string p = dir_ + "/big";
  ASSERT_TRUE(write_file_atomic(p, std::string(1000, 'x')));
  auto r = read_file(p, 999);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Invalid);
  EXPECT_NE(r.error().what().find("larger than the limit of 999 bytes"), std::string::npos);
}

TEST_F(FileTest, ReadMissingNamesPath) {
  auto r = read_file(dir_ + "/nope", 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno, ENOENT);
  EXPECT_NE(r.error().what().find("/nope"), std::string::npos);
}

TEST_F(FileTest, ReadDirectoryIsInvalid) {
  auto r = read_file(dir_, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Invalid);
}

TEST_F(FileTest, WriteKernelFileIsOneWriteToAnExistingFile) {
  std::string p = dir_ + "/value";
  ASSERT_TRUE(write_file_atomic(p, "50000 100000\n"));
  ASSERT_TRUE(write_kernel_file(p, "max 100000"));
  EXPECT_EQ(*read_file(p, 100), "max 100000");
  ASSERT_TRUE(write_kernel_file(p, "+cpu", KernelWrite::InPlace));
  EXPECT_EQ(*read_file(p, 100), "+cpu100000");               // over "max ", in place
  auto missing = write_kernel_file(dir_ + "/cpu.max", "1");  // never created
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().sys_errno, ENOENT);
}

TEST_F(FileTest, RemoveTreeTakesFilesAndDirectories) {
  std::string box = dir_ + "/box";
  ASSERT_EQ(::mkdir(box.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((box + "/a").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((box + "/a/b").c_str(), 0700), 0);
  ASSERT_TRUE(write_file_atomic(box + "/a/b/f", "x"));
  ASSERT_EQ(::symlink("/", (box + "/a/link").c_str()), 0);  // removed, not followed
  ASSERT_TRUE(remove_tree(box));
  struct stat st {};
  EXPECT_NE(::lstat(box.c_str(), &st), 0);
  EXPECT_TRUE(remove_tree(box)) << "a missing tree is not an error";
}

TEST_F(FileTest, RemoveTreeKeepingFilesLeavesThemToRmdir) {
  // cgroupfs removes a cgroup's files with its directory; an ordinary file
  // system refuses, so what was kept shows up as ENOTEMPTY.
  std::string box = dir_ + "/cg";
  ASSERT_EQ(::mkdir(box.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((box + "/child").c_str(), 0700), 0);
  ASSERT_TRUE(write_file_atomic(box + "/cgroup.procs", ""));
  auto st = remove_tree(box, TreeFiles::Keep);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().sys_errno, ENOTEMPTY);
  struct stat sb {};
  EXPECT_NE(::stat((box + "/child").c_str(), &sb), 0) << "the child directory went first";
  EXPECT_EQ(::stat((box + "/cgroup.procs").c_str(), &sb), 0);
}

TEST_F(FileTest, PrivateDirIsCreated0700WithParents) {
  ::umask(0);
  std::string p = dir_ + "/a/b/root";
  auto fd = open_private_dir(p + "/");
  ASSERT_TRUE(fd) << fd.error().what();
  struct stat st {};
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat((dir_ + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto sub = open_private_dir_at(fd->get(), p, "sandboxes");
  ASSERT_TRUE(sub) << sub.error().what();
  ASSERT_EQ(stat((p + "/sandboxes").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ::umask(022);
  // An existing private one is opened again.
  EXPECT_TRUE(open_private_dir(p));
  EXPECT_TRUE(open_private_dir_at(fd->get(), p, "sandboxes"));
}

// Threads making private dirs at once leave the process's umask as it was
// (a set-and-restore of the umask races and can leave 077 behind, after
// which every directory the process makes is 0700: the jail user could no
// longer enter a sandbox's directories).
TEST_F(FileTest, PrivateDirsMadeInParallelLeaveTheUmaskAlone) {
  ::umask(022);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 300; ++i) {
        std::string p = dir_ + "/par" + std::to_string(t) + "/" + std::to_string(i);
        EXPECT_TRUE(open_private_dir(p));
      }
    });
  }
  for (auto& th : threads) th.join();
  mode_t now = ::umask(022);
  EXPECT_EQ(now, 022u);
}

TEST_F(FileTest, PrivateDirRefusesWritableByOthers) {
  std::string p = dir_ + "/root";
  ASSERT_EQ(mkdir(p.c_str(), 0700), 0);
  ASSERT_EQ(chmod(p.c_str(), 0777), 0);
  auto fd = open_private_dir(p);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code, Errc::InvalidState);
  EXPECT_NE(fd.error().what().find(p + " has mode 0777"), std::string::npos) << fd.error().what();
  EXPECT_NE(fd.error().what().find("remove it"), std::string::npos);
}

TEST_F(FileTest, PrivateDirRefusesSymlinkAndFile) {
  std::string target = dir_ + "/elsewhere";
  ASSERT_EQ(mkdir(target.c_str(), 0700), 0);
  ASSERT_EQ(symlink(target.c_str(), (dir_ + "/sandboxes").c_str()), 0);
  auto parent = open_private_dir(dir_);
  ASSERT_TRUE(parent) << parent.error().what();
  auto fd = open_private_dir_at(parent->get(), dir_, "sandboxes");
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code, Errc::InvalidState);
  EXPECT_NE(fd.error().what().find(dir_ + "/sandboxes is a symlink (to " + target),
            std::string::npos)
      << fd.error().what();
  EXPECT_FALSE(open_private_dir(dir_ + "/sandboxes"));
  ASSERT_TRUE(write_file_atomic(dir_ + "/file", "x"));
  auto f = open_private_dir(dir_ + "/file");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().what().find("is not a directory"), std::string::npos) << f.error().what();
  EXPECT_FALSE(open_private_dir_at(parent->get(), dir_, "../x"));
}

TEST_F(FileTest, PrivateDirRefusesAnotherOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  std::string p = dir_ + "/root";
  ASSERT_EQ(mkdir(p.c_str(), 0700), 0);
  ASSERT_EQ(chown(p.c_str(), 1000, 1000), 0);
  auto fd = open_private_dir(p);
  ASSERT_FALSE(fd);
  EXPECT_NE(fd.error().what().find("is owned by uid 1000"), std::string::npos) << fd.error().what();
}

}  // namespace
}  // namespace hull
