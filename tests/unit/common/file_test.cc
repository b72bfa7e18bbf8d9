#include "common/file.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hull
