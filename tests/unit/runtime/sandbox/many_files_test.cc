// What a guest can leave in a sandbox directory does not stop its removal (issue 13 item 4):
// a tree of many files with names no shell likes (newlines, non-UTF-8 bytes, 255-byte
// names, leading dashes), removed by the DirGuard that Sandbox::stop and `delete` use.
// HULL_MANY_FILES sets how many files: 20000 by default, as making them is the slow part on
// a busy host (100000 took 6-110 s to make and 2.8 s to remove; docs/security.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "runtime/sandbox/dir_guard.h"

namespace hull::sandbox {
namespace {

size_t file_count() {
  const char* v = std::getenv("HULL_MANY_FILES");
  return v && *v ? std::strtoull(v, nullptr, 10) : 20000;
}

// The name of file i: every 7th has a newline, every 11th non-UTF-8 bytes, every 13th is
// 255 bytes long, every 17th starts with a dash.
std::string weird_name(size_t i) {
  std::string n = std::to_string(i);
  if (i % 7 == 0) n += "\nline";
  if (i % 11 == 0) n += "\xff\xfe\x80";
  if (i % 17 == 0) n = "-rf " + n;
  if (i % 13 == 0) n += std::string(255 - n.size(), 'L');
  return n;
}

TEST(ManyFiles, DeleteRemovesAWideWeirdTreeQuickly) {
  char tmpl[] = "/tmp/hull-many-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string base = tmpl;
  auto g = DirGuard::create(base + "/sandbox");
  ASSERT_TRUE(g) << g.error().what();
  const std::string rootfs = base + "/sandbox/shared/containers/c1/rootfs";
  std::filesystem::create_directories(rootfs);
  const size_t count = file_count();
  constexpr size_t kPerDir = 10000;  // wide directories: one pass per entry was n^2
  int dir = -1;
  const auto made0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < count; ++i) {
    if (i % kPerDir == 0) {
      if (dir >= 0) ::close(dir);
      const std::string d = rootfs + "/" + weird_name(i / kPerDir);
      ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << d;
      dir = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      ASSERT_GE(dir, 0);
    }
    int f = ::openat(dir, weird_name(i).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                     i % 5 == 0 ? 0000 : 0644);
    ASSERT_GE(f, 0) << i;
    ::close(f);
  }
  if (dir >= 0) {
    ::fchmod(dir, 0);  // an unreadable directory, as a guest may leave
    ::close(dir);
  }
  const double made =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - made0).count();
  const auto t0 = std::chrono::steady_clock::now();
  auto st = g->remove();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_FALSE(std::filesystem::exists(base + "/sandbox"));
  std::printf("many files: %zu files made in %.1f s, removed in %.1f s\n", count, made, secs);
  EXPECT_LT(secs, 60.0);
  std::filesystem::remove_all(base);
}

}  // namespace
}  // namespace hull::sandbox
