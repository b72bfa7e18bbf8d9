#include "guest-image/cpio_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "common/process.h"
#include "common/unique_fd.h"
#include "temp_dir.h"

namespace hull::guest_image {
namespace {

using ::testing::HasSubstr;
constexpr auto kTimeout = std::chrono::seconds(30);

void write_text(const std::string& path, const std::string& text) {
  ASSERT_TRUE(write_file_atomic(path, text));
}

Status write_archive(const std::string& path, std::vector<CpioEntry> entries) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return fail_errno("open " + path);
  return write_cpio(fd.get(), std::move(entries));
}

CpioEntry entry(CpioType type, std::string name, uint32_t mode) {
  CpioEntry e;
  e.type = type;
  e.name = std::move(name);
  e.mode = mode;
  return e;
}
CpioEntry dir(std::string name, uint32_t mode = 0755) {
  return entry(CpioType::Directory, std::move(name), mode);
}
CpioEntry file(std::string name, std::string source, uint32_t mode = 0644) {
  CpioEntry e = entry(CpioType::File, std::move(name), mode);
  e.source = std::move(source);
  return e;
}
CpioEntry symlink(std::string name, std::string target) {
  CpioEntry e = entry(CpioType::Symlink, std::move(name), 0777);
  e.target = std::move(target);
  return e;
}
CpioEntry console() {
  CpioEntry e = entry(CpioType::CharDevice, "dev/console", 0600);
  e.rdev_major = 5;
  e.rdev_minor = 1;
  return e;
}

class CpioWriterTest : public ::testing::Test {
 protected:
  TempDir tmp_;
};

TEST_F(CpioWriterTest, ListedByCpioInSortedOrderWithFixedOwnersAndTimes) {
  write_text(tmp_ / "agent", "#!/bin/true\n");
  std::string archive = tmp_ / "a.cpio";
  ASSERT_TRUE(
      write_archive(archive, {file("init", tmp_ / "agent", 0755), dir("sys"), dir("proc"),
                              symlink("bin/sh", "busybox"), dir("bin"), console(), dir("dev")}));
  auto names = run_capture({"cpio", "-t", "--quiet", "-F", archive}, kTimeout);
  ASSERT_TRUE(names) << names.error().what();
  ASSERT_EQ(names->exit_status, 0) << names->output;
  EXPECT_EQ(names->output, "bin\nbin/sh\ndev\ndev/console\ninit\nproc\nsys\n");

  auto verbose = run_capture({"cpio", "-tv", "--quiet", "-F", archive}, kTimeout);
  ASSERT_TRUE(verbose);
  EXPECT_THAT(verbose->output,
              HasSubstr("-rwxr-xr-x   1 root     root           12 Jan  1  1970 init"));
  EXPECT_THAT(verbose->output,
              HasSubstr("crw-------   1 root     root       5,   1 Jan  1  1970 dev/console"));
  EXPECT_THAT(
      verbose->output,
      HasSubstr("lrwxrwxrwx   1 root     root            7 Jan  1  1970 bin/sh -> busybox"));
}

TEST_F(CpioWriterTest, RoundTripThroughCpioExtract) {
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 3);
  write_text(tmp_ / "big", big);
  write_text(tmp_ / "odd", "x");  // 1 byte: data padding
  write_text(tmp_ / "empty", "");
  std::string archive = tmp_ / "a.cpio";
  ASSERT_TRUE(write_archive(
      archive, {dir("d", 0700), file("d/big", tmp_ / "big", 0600), file("odd", tmp_ / "odd"),
                file("empty", tmp_ / "empty"), symlink("link", "d/big"), dir("tmp", 01777)}));
  std::string out = tmp_ / "out";
  ASSERT_EQ(::mkdir(out.c_str(), 0755), 0);
  auto r = run_capture({"cpio", "-i", "-d", "--quiet", "-F", archive, "-D", out}, kTimeout);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->exit_status, 0) << r->output;

  EXPECT_EQ(read_file(out + "/d/big", 1 << 20).value_or(""), big);
  EXPECT_EQ(read_file(out + "/odd", 10).value_or(""), "x");
  EXPECT_EQ(read_file(out + "/empty", 10).value_or("?"), "");
  EXPECT_EQ(std::filesystem::read_symlink(out + "/link"), "d/big");
  struct stat st {};
  ASSERT_EQ(::stat((out + "/d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((out + "/d/big").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((out + "/tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
}

TEST_F(CpioWriterTest, NamesWithSpecialCharactersSurviveExtraction) {
  const std::vector<std::string> names = {
      "with space",        "new\nline", "tab\there", "quote\"and'apostrophe", "back\\slash",
      "-starts-with-dash", "*glob?[x]", "ünïcødé ✓", "$(not a command)",      std::string(200, 'n'),
  };
  std::vector<CpioEntry> entries;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string src = tmp_ / ("src" + std::to_string(i));
    write_text(src, "content " + std::to_string(i));
    entries.push_back(file(names[i], src));
  }
  std::string archive = tmp_ / "a.cpio";
  ASSERT_TRUE(write_archive(archive, entries));
  std::string out = tmp_ / "out";
  ASSERT_EQ(::mkdir(out.c_str(), 0755), 0);
  auto r = run_capture({"cpio", "-i", "--quiet", "-F", archive, "-D", out}, kTimeout);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->exit_status, 0) << r->output;
  for (size_t i = 0; i < names.size(); ++i) {
    auto content = read_file(out + "/" + names[i], 100);
    ASSERT_TRUE(content) << names[i] << ": " << content.error().what();
    EXPECT_EQ(*content, "content " + std::to_string(i)) << names[i];
  }
}

TEST_F(CpioWriterTest, RefusesFilesOf4GiBOrMore) {
  for (off_t size : {off_t{4} << 30, (off_t{5} << 30) + 1}) {
    std::string sparse = tmp_ / "sparse";
    {
      UniqueFd fd(::open(sparse.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      ASSERT_TRUE(fd);
      ASSERT_EQ(::ftruncate(fd.get(), size), 0);  // sparse: no disk space used
    }
    std::string archive = tmp_ / "a.cpio";
    auto st = write_archive(archive, {file("huge", sparse)});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::Invalid);
    EXPECT_THAT(st.error().what(), HasSubstr("huge: " + sparse + " is " + std::to_string(size) +
                                             " bytes; the cpio newc format stores files of at "
                                             "most 4294967295 bytes"));
  }
}

TEST_F(CpioWriterTest, RefusesBadNamesDuplicatesAndNonRegularSources) {
  write_text(tmp_ / "f", "x");
  auto refused = [&](std::vector<CpioEntry> entries, const std::string& why) {
    auto st = write_archive(tmp_ / "a.cpio", std::move(entries));
    ASSERT_FALSE(st) << why;
    EXPECT_THAT(st.error().what(), HasSubstr(why));
  };
  refused({file("/abs", tmp_ / "f")}, "relative");
  refused({file("a/../b", tmp_ / "f")}, "\"..\" path component");
  refused({file("a//b", tmp_ / "f")}, "empty");
  refused({file("./a", tmp_ / "f")}, "\".\"");
  refused({file("", tmp_ / "f")}, "empty name");
  refused({file(std::string("nul\0byte", 8), tmp_ / "f")}, "NUL");
  refused({file(std::string(5000, 'x'), tmp_ / "f")}, "longer than the limit of 4095");
  refused({file("x", tmp_ / "f"), dir("x")}, "\"x\" appears twice");
  refused({file("x", tmp_.path())}, "is not a regular file");
  refused({file("x", tmp_ / "missing")}, "opening");
  refused({symlink("x", "")}, "bad symlink target");
  refused({dir("x", 010000)}, "outside the permission bits");
}

TEST_F(CpioWriterTest, SameInputsGiveIdenticalBytesWhateverTheSourceFilesTimesAndInodes) {
  auto build = [&](const std::string& archive) {
    write_text(tmp_ / "agent", "agent bytes");  // a fresh inode and mtime each time
    ASSERT_TRUE(write_archive(archive, {dir("proc"), file("init", tmp_ / "agent", 0755), dir("dev"),
                                        symlink("sh", "init")}));
  };
  build(tmp_ / "one.cpio");
  ::sleep(1);
  build(tmp_ / "two.cpio");
  auto one = read_file(tmp_ / "one.cpio", 1 << 20);
  auto two = read_file(tmp_ / "two.cpio", 1 << 20);
  ASSERT_TRUE(one && two);
  EXPECT_EQ(*one, *two);
  EXPECT_EQ(one->size() % 512, 0u);
  // First entry in name order is "dev": inode 1, then mode, uid 0, gid 0, nlink 2, mtime 0.
  EXPECT_EQ(one->substr(0, 54),
            "070701"
            "00000001"
            "000041ED"
            "00000000"
            "00000000"
            "00000002"
            "00000000");
}

}  // namespace
}  // namespace hull::guest_image
