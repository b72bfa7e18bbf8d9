// The bounded logs (log_ring.h): the rotation of LogRing over memory and over files,
// StreamMatcher across piece boundaries, and LogPump end to end over a pipe.
#include "runtime/sandbox/log_ring.h"
#include "runtime/vm/log_tail.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>

namespace hull::sandbox {
namespace {

// Both halves in memory.
struct MemFiles : RingFiles {
  std::string* current;
  std::string* older;
  MemFiles(std::string* c, std::string* o) : current(c), older(o) {}
  Status append(std::string_view d) override {
    current->append(d);
    return {};
  }
  Status rotate() override {
    *older = std::move(*current);
    current->clear();
    return {};
  }
};

TEST(LogRing, RotatesAtHalfTheCapAndKeepsTheNewestBytes) {
  std::string cur, old;
  LogRing r(8, std::make_unique<MemFiles>(&cur, &old));
  EXPECT_EQ(r.half(), 4u);
  ASSERT_TRUE(r.write("abc"));
  EXPECT_EQ(cur, "abc");
  EXPECT_EQ(old, "");
  ASSERT_TRUE(r.write("d"));
  EXPECT_EQ(cur, "abcd");  // full, but rotates only when more comes
  EXPECT_EQ(r.rotations(), 0u);
  ASSERT_TRUE(r.write("efghij"));
  EXPECT_EQ(old, "efgh");
  EXPECT_EQ(cur, "ij");
  EXPECT_EQ(r.rotations(), 2u);
  EXPECT_EQ(r.current_size(), 2u);
}

// Whatever the pieces, the two halves hold a suffix of the stream, at most the cap and
// at least half of it (once that much was written).
TEST(LogRing, AnySequenceOfWritesStaysBoundedAndKeepsASuffix) {
  std::mt19937 rng(42);
  for (uint64_t cap : {2u, 3u, 10u, 64u, 1000u}) {
    std::string cur, old, all;
    LogRing r(cap, std::make_unique<MemFiles>(&cur, &old));
    for (int i = 0; i < 300; ++i) {
      std::string piece(rng() % (cap * 2 + 1), '\0');
      for (auto& c : piece) c = static_cast<char>('a' + rng() % 26);
      ASSERT_TRUE(r.write(piece));
      all += piece;
      const std::string kept = old + cur;
      ASSERT_LE(kept.size(), cap) << cap;
      ASSERT_LE(cur.size(), r.half());
      ASSERT_LE(old.size(), r.half());
      ASSERT_GE(kept.size(), std::min<size_t>(all.size(), r.half())) << cap;
      ASSERT_EQ(all.substr(all.size() - kept.size()), kept) << cap;
    }
  }
}

TEST(StreamMatcher, FindsTheNeedleSplitAnywhere) {
  const std::string needle = "hull-agent ready ";
  const std::string text = "[ 1.0] boot\nhull-agent ready 1.5\n";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    StreamMatcher m(needle);
    m.feed(text.substr(0, cut));
    EXPECT_TRUE(m.feed(text.substr(cut))) << cut;
  }
  StreamMatcher bytes(needle);  // one byte at a time
  for (char c : text) bytes.feed(std::string_view(&c, 1));
  EXPECT_TRUE(bytes.found());
  StreamMatcher miss(needle);
  EXPECT_FALSE(miss.feed("hull-agent read"));
  EXPECT_FALSE(miss.feed("x hull-agent"));
  EXPECT_FALSE(miss.feed(" ready"));  // "hull-agent ready" without its space
  EXPECT_TRUE(miss.feed(" hull-agent ready hull-agent"));
  EXPECT_FALSE(StreamMatcher("").feed("anything"));
}

class LogFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-ring.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/console.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  uint64_t size_of(const std::string& p) { return std::filesystem::file_size(p); }
  std::string slurp(const std::string& p) {
    std::string s(size_of(p), '\0');
    FILE* f = std::fopen(p.c_str(), "rb");
    if (!f) return "";
    s.resize(std::fread(s.data(), 1, s.size(), f));
    std::fclose(f);
    return s;
  }
  std::string dir_, path_;
};

TEST_F(LogFiles, FilesRotateByDescriptorAndTheTailSpansBoth) {
  auto files = FdRingFiles::open(path_);
  ASSERT_TRUE(files) << files.error().what();
  LogRing r(100, std::move(*files));
  std::string all;
  for (int i = 0; i < 40; ++i) {
    std::string line = "line " + std::to_string(i) + "\n";
    ASSERT_TRUE(r.write(line));
    all += line;
  }
  EXPECT_LE(size_of(path_), 50u);
  EXPECT_LE(size_of(path_ + ".1"), 50u);
  const std::string kept = slurp(path_ + ".1") + slurp(path_);
  EXPECT_EQ(all.substr(all.size() - kept.size()), kept);
  EXPECT_EQ(vm::ring_tail_bytes(path_, 30), all.substr(all.size() - 30));
  EXPECT_EQ(vm::ring_tail_bytes(path_, 1000), kept);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A symlink planted at the path is not followed.
  std::filesystem::remove(path_);
  std::filesystem::create_symlink("/etc/passwd", path_);
  EXPECT_FALSE(FdRingFiles::open(path_));
}

TEST_F(LogFiles, PumpBoundsAFloodAndFindsAMarkerAcrossARotation) {
  auto pump =
      LogPump::start({{.path = path_, .cap_bytes = 64 * 1024, .marker = "hull-agent ready "},
                      {.path = dir_ + "/helper.log", .cap_bytes = 1024, .marker = {}}});
  ASSERT_TRUE(pump) << pump.error().what();
  UniqueFd console = (*pump)->take_writer(0);
  UniqueFd helper = (*pump)->take_writer(1);
  // Fill the current half up to the marker's middle, so it is split by the rotation.
  std::string head(32 * 1024 - 11, '.');
  head += "hull-agent ";
  std::string rest = "ready 1.0\n";
  ASSERT_EQ(::write(console.get(), head.data(), head.size()), static_cast<ssize_t>(head.size()));
  (*pump)->drain();
  EXPECT_FALSE((*pump)->marker_seen(0));
  ASSERT_EQ(::write(console.get(), rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  (*pump)->drain();
  EXPECT_TRUE((*pump)->marker_seen(0));
  EXPECT_EQ(slurp(path_), rest);  // the rotation came between the two halves of the line
  // A flood of 8 MiB (blocking writes: the pump keeps up) leaves at most the cap.
  const std::string mib(1 << 20, 'z');
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(::write(console.get(), mib.data(), mib.size()), static_cast<ssize_t>(mib.size()));
  }
  ASSERT_EQ(::write(helper.get(), "last words\n", 11), 11);
  helper.reset();
  EXPECT_EQ((*pump)->tail(1), "last words\n");
  EXPECT_EQ((*pump)->bytes(0), head.size() + rest.size() + 8 * mib.size());
  EXPECT_LE(size_of(path_) + size_of(path_ + ".1"), 64u * 1024);
  EXPECT_EQ((*pump)->tail(0, 100), std::string(100, 'z'));
  console.reset();
  (*pump)->stop();
  (*pump)->stop();  // idempotent
}

// When the pump is gone, a writer gets EPIPE (QEMU ignores SIGPIPE and drops the byte)
// and never blocks.
TEST_F(LogFiles, WriterSeesEpipeWhenThePumpIsGone) {
  auto pump = LogPump::start({{.path = path_, .cap_bytes = 1024, .marker = {}}});
  ASSERT_TRUE(pump);
  UniqueFd w = (*pump)->take_writer(0);
  pump->reset();
  struct sigaction ign {
  }, old{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  errno = 0;
  EXPECT_EQ(::write(w.get(), "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  ::sigaction(SIGPIPE, &old, nullptr);
}

}  // namespace
}  // namespace hull::sandbox
