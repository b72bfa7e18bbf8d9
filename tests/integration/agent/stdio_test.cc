// stdio through the agent in a real VM: large output, binary stdin round
// trip, output written just before exit, back-pressure from a slow reader.
#include <chrono>
#include <random>
#include <thread>

#include "agent_fixture.h"

namespace hull::sandbox::testing {
namespace {

using namespace std::chrono_literals;

struct StdioTag {
  static constexpr const char* kName = "ia-stdio";
};
using StdioTest = AgentFixture<StdioTag>;

TEST_F(StdioTest, LargeOutputArrivesWhole) {
  constexpr size_t kBytes = 16 << 20;
  std::string id = next_id("big");
  auto c = create(id, busybox_spec(id, {"sh", "-c", "yes abcdefghijklmno | head -c 16777216"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  size_t total = 0;
  bool pattern_ok = true;
  auto st = cc.read_output(id, "", OutputStream::Stdout, [&](std::string_view chunk) {
    for (char ch : chunk) {
      char want = (total % 16 == 15) ? '\n' : static_cast<char>('a' + total % 16);
      if (ch != want) pattern_ok = false;
      ++total;
    }
    return Status{};
  });
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(total, kBytes);
  EXPECT_TRUE(pattern_ok);
  auto w = cc.wait(id, "", 60s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 0);
}

TEST_F(StdioTest, BinaryStdinRoundTripThroughCat) {
  std::string id = next_id("cat");
  auto c = create(id, busybox_spec(id, {"cat"}), {.stdin = true});
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  std::string input(3 << 20, '\0');
  std::mt19937 rng(42);
  for (size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<char>(i < 256 ? i : rng() & 0xff);  // every byte value, then noise
  }
  Status wrote;
  std::thread writer([&] {
    wrote = cc.write_stdin(id, "", input, 120s);
    if (wrote) wrote = cc.close_stdin(id, "");
  });
  auto out = read_all(cc, id, "", OutputStream::Stdout);
  writer.join();
  ASSERT_TRUE(wrote) << wrote.error().what();
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->size(), input.size());
  EXPECT_TRUE(*out == input) << "cat returned different bytes";
  auto w = cc.wait(id, "", 60s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 0);
  // stdin is closed now: writing again says so.
  auto late = cc.write_stdin(id, "", std::string("x"), 5s);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::InvalidState) << late.error().what();
}

TEST_F(StdioTest, OutputWrittenJustBeforeExitIsNotLost) {
  std::string id = next_id("tail");
  auto c = create(id, busybox_spec(id, {"sh", "-c",
                                        "head -c 200000 /dev/zero; printf tail-out; "
                                        "printf tail-err >&2; exit 9"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  // Wait first: the process has exited before anyone reads.
  auto w = cc.wait(id, "", 60s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 9);
  auto out = read_all(cc, id, "", OutputStream::Stdout);
  auto err = read_all(cc, id, "", OutputStream::Stderr);
  ASSERT_TRUE(out && err);
  ASSERT_EQ(out->size(), 200000u + 8);
  EXPECT_EQ(out->substr(200000), "tail-out");
  EXPECT_EQ(*err, "tail-err");
  // Reading again after EOF: an empty stream, not an error.
  auto again = read_all(cc, id, "", OutputStream::Stdout);
  ASSERT_TRUE(again) << again.error().what();
  EXPECT_EQ(*again, "");

  // The same for an exec'd process with stdin.
  std::string id2 = next_id("tail-exec");
  auto c2 = create(id2, busybox_spec(id2, {"sleep", "1000"}));
  ASSERT_TRUE(c2) << c2.error().what();
  ASSERT_TRUE(cc.start(id2));
  ASSERT_TRUE(cc.exec(id2, "x", process_json(shell_process("cat; printf end")), {.stdin = true}));
  ASSERT_TRUE(cc.write_stdin(id2, "x", std::string("from-stdin:")));
  ASSERT_TRUE(cc.close_stdin(id2, "x"));
  auto we = cc.wait(id2, "x", 60s);
  ASSERT_TRUE(we) << we.error().what();
  auto o2 = read_all(cc, id2, "x", OutputStream::Stdout);
  ASSERT_TRUE(o2) << o2.error().what();
  EXPECT_EQ(*o2, "from-stdin:end");
}

TEST_F(StdioTest, ASlowReaderBlocksTheProcessInsteadOfFillingTheAgent) {
  constexpr size_t kBytes = 32 << 20;
  std::string id = next_id("slow");
  auto c =
      create(id, busybox_spec(id, {"sh", "-c", "head -c 33554432 /dev/zero; echo finished >&2"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  auto before = sb_->agent().guest_details();
  ASSERT_TRUE(before) << before.error().what();
  ASSERT_TRUE(cc.start(id));
  // Nobody reads: the process must block on its full pipe.
  auto w = cc.wait(id, "", 3s);
  ASSERT_FALSE(w) << "the process finished without a reader";
  EXPECT_EQ(w.error().code, Errc::Timeout) << w.error().what();
  auto during = sb_->agent().guest_details();
  ASSERT_TRUE(during);
  int64_t used_kib = static_cast<int64_t>(before->mem_available_kib()) -
                     static_cast<int64_t>(during->mem_available_kib());
  EXPECT_LT(used_kib, 8 * 1024) << "the guest lost " << used_kib << " KiB while output waited";
  // A reader that takes a little and goes away leaves the rest for the next one
  // (what was in flight to the cancelled reader is gone with it).
  size_t first = 0;
  auto part = cc.read_output(id, "", OutputStream::Stdout, [&](std::string_view s) -> Status {
    first += s.size();
    if (first >= (1 << 20)) return fail(Errc::Timeout, "enough");
    return {};
  });
  ASSERT_FALSE(part);
  size_t rest = 0;
  auto st = cc.read_output(id, "", OutputStream::Stdout, [&](std::string_view s) {
    rest += s.size();
    return Status{};
  });
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_LE(first + rest, kBytes);
  EXPECT_GT(rest, kBytes / 2);
  auto done = cc.wait(id, "", 60s);
  ASSERT_TRUE(done) << done.error().what();
  EXPECT_EQ(done->code, 0);
  auto err = read_all(cc, id, "", OutputStream::Stderr);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "finished\n");
}

}  // namespace
}  // namespace hull::sandbox::testing
