#include "guest-image/initrd_spec.h"

#include <sys/stat.h>

#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "common/process.h"
#include "temp_dir.h"

namespace hull::guest_image {
namespace {

using ::testing::HasSubstr;

TEST(InitrdSpec, ParsesEveryEntryKind) {
  auto r = parse_initrd_spec(
      "# comment\n"
      "\n"
      "dir /proc 0555\n"
      "file /init 0755 /build/hull-agent\n"
      "  slink\t/bin/sh busybox  \n"
      "nod /dev/console 0600 c 5 1\n"
      "dir tmp 1777");
  ASSERT_TRUE(r) << r.error().what();
  ASSERT_EQ(r->size(), 5u);
  const auto& e = *r;
  EXPECT_EQ(e[0].type, CpioType::Directory);
  EXPECT_EQ(e[0].name, "proc");
  EXPECT_EQ(e[0].mode, 0555u);
  EXPECT_EQ(e[1].type, CpioType::File);
  EXPECT_EQ(e[1].name, "init");
  EXPECT_EQ(e[1].source, "/build/hull-agent");
  EXPECT_EQ(e[2].type, CpioType::Symlink);
  EXPECT_EQ(e[2].name, "bin/sh");
  EXPECT_EQ(e[2].target, "busybox");
  EXPECT_EQ(e[3].type, CpioType::CharDevice);
  EXPECT_EQ(e[3].rdev_major, 5u);
  EXPECT_EQ(e[3].rdev_minor, 1u);
  EXPECT_EQ(e[4].name, "tmp");
  EXPECT_EQ(e[4].mode, 01777u);
}

TEST(InitrdSpec, EscapesWriteAnyName) {
  auto r = parse_initrd_spec("file /a\\ b\\nc\\td\\x41\\\\ 0644 /src/with\\ space\n");
  ASSERT_TRUE(r) << r.error().what();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "a b\nc\tdA\\");
  EXPECT_EQ((*r)[0].source, "/src/with space");
}

TEST(InitrdSpec, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"dir /a 0755\nblock /b 0755\n", "line 2: unknown entry type \"block\""},
      {"dir /a\n", "line 1: \"dir\" takes 2 fields, found 1"},
      {"file /a 0755\n", "line 1: \"file\" takes 3 fields, found 2"},
      {"dir /a 0855\n", "line 1: bad mode \"0855\""},
      {"dir /a 17777\n", "line 1: bad mode \"17777\""},
      {"nod /d 0600 b 8 0\n", "only character devices"},
      {"nod /d 0600 c x 0\n", "bad major number \"x\""},
      {"nod /d 0600 c 1 9999999\n", "bad minor number"},
      {"dir /a/../b 0755\n", "\"..\" path component"},
      {"dir / 0755\n", "empty name"},
      {"dir /a\\x4 0755\n", "\\x needs two hex digits"},
      {"dir /a 0755 \\", "a backslash ends the line"},
  };
  for (const Case& c : cases) {
    auto r = parse_initrd_spec(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, Errc::Invalid);
    EXPECT_THAT(r.error().what(), HasSubstr(c.error)) << c.text;
  }
}

// The tool end to end: two builds from the same spec are byte-identical, even when the
// agent file was rewritten in between (new inode, new mtime).
TEST(Mkinitrd, TwoBuildsFromTheSameInputsHaveTheSameHash) {
  TempDir tmp;
  std::string spec = tmp / "spec";
  ASSERT_TRUE(write_file_atomic(spec, "file /init 0755 " + (tmp / "agent") +
                                          "\ndir /proc 0755\ndir /tmp 1777\n"
                                          "nod /dev/console 0600 c 5 1\ndir /dev 0755\n"));
  auto build = [&](const std::string& out) {
    ASSERT_TRUE(write_file_atomic(tmp / "agent", std::string(70000, 'a')));
    auto r = run_capture({HULL_MKINITRD, "-o", out, spec}, std::chrono::seconds(30));
    ASSERT_TRUE(r) << r.error().what();
    ASSERT_EQ(r->exit_status, 0) << r->output;
  };
  build(tmp / "one.img");
  ::sleep(1);
  build(tmp / "two.img");
  auto sums =
      run_capture({"sha256sum", tmp / "one.img", tmp / "two.img"}, std::chrono::seconds(30));
  ASSERT_TRUE(sums);
  ASSERT_EQ(sums->exit_status, 0);
  std::string first = sums->output.substr(0, 64);
  std::string second = sums->output.substr(sums->output.find('\n') + 1, 64);
  EXPECT_EQ(first, second) << sums->output;
}

TEST(Mkinitrd, FailsWithoutLeavingAPartialOutput) {
  TempDir tmp;
  std::string spec = tmp / "spec";
  ASSERT_TRUE(
      write_file_atomic(spec, "dir /proc 0755\nfile /init 0755 " + (tmp / "missing") + "\n"));
  auto r = run_capture({HULL_MKINITRD, "-o", tmp / "out.img", spec}, std::chrono::seconds(30));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_status, 1);
  EXPECT_THAT(r->output, HasSubstr("init: opening " + (tmp / "missing")));
  struct stat st {};
  EXPECT_NE(::stat((tmp / "out.img").c_str(), &st), 0);
}

}  // namespace
}  // namespace hull::guest_image
