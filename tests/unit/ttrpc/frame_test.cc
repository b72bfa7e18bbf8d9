// The pure frame parser and the reader that feeds it (ttrpc/frame.h).
#include "ttrpc/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace hull::ttrpc {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

std::vector<std::byte> frame(uint32_t stream_id, uint8_t type, const std::string& body,
                             uint32_t length_override = UINT32_MAX) {
  const uint32_t length =
      length_override == UINT32_MAX ? static_cast<uint32_t>(body.size()) : length_override;
  auto head = encode_header({.length = length, .stream_id = stream_id, .type = type});
  std::vector<std::byte> out(head.begin(), head.end());
  for (char c : body) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());  // bytes as chars
}

TEST(Frame, HeaderIsBigEndianLengthStreamTypeFlags) {
  // docs/ttrpc.md: a request of 37 bytes on stream 1.
  auto head = encode_header({.length = 37, .stream_id = 1, .type = 1, .flags = 0});
  EXPECT_EQ(std::vector<std::byte>(head.begin(), head.end()),
            bytes({0, 0, 0, 0x25, 0, 0, 0, 1, 1, 0}));
  auto big = encode_header({.length = 0x01020304, .stream_id = 0xA0B0C0D0, .type = 2, .flags = 7});
  EXPECT_EQ(std::vector<std::byte>(big.begin(), big.end()),
            bytes({1, 2, 3, 4, 0xA0, 0xB0, 0xC0, 0xD0, 2, 7}));
}

TEST(Frame, ShortHeaderNeedsTenBytes) {
  auto f = frame(1, 1, "abc");
  for (size_t n = 0; n < kHeaderSize; ++n) {
    Parsed p = parse_frame(std::span(f).first(n));
    EXPECT_EQ(p.kind, ParseKind::NeedMore) << n;
    EXPECT_EQ(p.need, kHeaderSize) << n;
  }
}

TEST(Frame, PartialBodyNeedsTheWholeFrame) {
  auto f = frame(3, 1, "hello");
  Parsed p = parse_frame(std::span(f).first(12));
  EXPECT_EQ(p.kind, ParseKind::NeedMore);
  EXPECT_EQ(p.need, kHeaderSize + 5);
  EXPECT_EQ(p.header.length, 5u);
}

TEST(Frame, WholeFrameLeavesTheRest) {
  auto f = frame(5, 2, "hello");
  auto g = frame(7, 1, "x");
  f.insert(f.end(), g.begin(), g.end());
  Parsed p = parse_frame(f);
  ASSERT_EQ(p.kind, ParseKind::Frame);
  EXPECT_EQ(p.header, (FrameHeader{.length = 5, .stream_id = 5, .type = 2, .flags = 0}));
  EXPECT_EQ(text(p.body), "hello");
  EXPECT_EQ(p.consumed, kHeaderSize + 5);
  Parsed q = parse_frame(std::span(f).subspan(p.consumed));
  ASSERT_EQ(q.kind, ParseKind::Frame);
  EXPECT_EQ(q.header.stream_id, 7u);
  EXPECT_EQ(text(q.body), "x");
}

TEST(Frame, EmptyBodyIsAFrame) {
  auto f = frame(9, 2, "");
  Parsed p = parse_frame(f);
  ASSERT_EQ(p.kind, ParseKind::Frame);
  EXPECT_TRUE(p.body.empty());
  EXPECT_EQ(p.consumed, kHeaderSize);
}

TEST(Frame, ExactlyFourMebibytesIsAccepted) {
  std::vector<std::byte> f(kHeaderSize + kMaxMessageLength, std::byte{'z'});
  auto head = encode_header({.length = kMaxMessageLength, .stream_id = 1, .type = 1});
  std::copy(head.begin(), head.end(), f.begin());
  Parsed p = parse_frame(f);
  ASSERT_EQ(p.kind, ParseKind::Frame);
  EXPECT_EQ(p.body.size(), kMaxMessageLength);
  EXPECT_EQ(parse_frame(std::span(f).first(f.size() - 1)).kind, ParseKind::NeedMore);
}

TEST(Frame, OneByteOverFourMebibytesIsRefusedFromTheHeaderAlone) {
  auto f = frame(11, 1, "", kMaxMessageLength + 1);
  Parsed p = parse_frame(f);  // only the header: the body is never needed
  ASSERT_EQ(p.kind, ParseKind::TooLong);
  EXPECT_EQ(p.header.length, kMaxMessageLength + 1);
  EXPECT_EQ(p.header.stream_id, 11u);
  EXPECT_EQ(p.consumed, kHeaderSize);
  EXPECT_EQ(parse_frame(frame(1, 1, "", UINT32_MAX - 1)).kind, ParseKind::TooLong);
}

TEST(Frame, MaxLengthIsTheCallersChoice) {
  auto f = frame(1, 1, "12345");
  EXPECT_EQ(parse_frame(f, 4).kind, ParseKind::TooLong);
  EXPECT_EQ(parse_frame(f, 5).kind, ParseKind::Frame);
}

TEST(FrameReader, SplitReadsOneByteAtATime) {
  auto f = frame(1, 1, "split me");
  FrameReader r;
  for (size_t i = 0; i + 1 < f.size(); ++i) {
    r.feed(std::span(f).subspan(i, 1));
    EXPECT_EQ(r.next().kind, ParseKind::NeedMore) << i;
    EXPECT_TRUE(r.mid_frame());
  }
  r.feed(std::span(f).last(1));
  Parsed p = r.next();
  ASSERT_EQ(p.kind, ParseKind::Frame);
  EXPECT_EQ(text(p.body), "split me");
  EXPECT_EQ(r.next().kind, ParseKind::NeedMore);
  EXPECT_FALSE(r.mid_frame());
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(FrameReader, SeveralFramesInOneRead) {
  std::vector<std::byte> all;
  for (uint32_t id = 1; id <= 9; id += 2) {
    auto f = frame(id, 1, "body" + std::to_string(id));
    all.insert(all.end(), f.begin(), f.end());
  }
  auto tail = frame(11, 1, "tail");
  all.insert(all.end(), tail.begin(), tail.begin() + 4);  // half a header
  FrameReader r;
  r.feed(all);
  for (uint32_t id = 1; id <= 9; id += 2) {
    Parsed p = r.next();
    ASSERT_EQ(p.kind, ParseKind::Frame);
    EXPECT_EQ(p.header.stream_id, id);
    EXPECT_EQ(text(p.body), "body" + std::to_string(id));
  }
  EXPECT_EQ(r.next().kind, ParseKind::NeedMore);
  EXPECT_TRUE(r.mid_frame());
  r.feed(std::span(tail).subspan(4));
  Parsed p = r.next();
  ASSERT_EQ(p.kind, ParseKind::Frame);
  EXPECT_EQ(text(p.body), "tail");
}

TEST(FrameReader, RefusedBodyIsSkippedWithoutBeingKept) {
  // A 4 MiB + 1 frame arrives in 64 KiB pieces, then a good frame.
  const uint32_t length = kMaxMessageLength + 1;
  auto head = encode_header({.length = length, .stream_id = 13, .type = 1});
  FrameReader r;
  r.feed(head);
  Parsed p = r.next();
  ASSERT_EQ(p.kind, ParseKind::TooLong);
  EXPECT_EQ(p.header.stream_id, 13u);
  EXPECT_TRUE(r.mid_frame());
  std::vector<std::byte> piece(64 * 1024, std::byte{0xEE});
  size_t left = length;
  while (left > piece.size()) {
    r.feed(piece);
    left -= piece.size();
    EXPECT_EQ(r.buffered(), 0u);
    EXPECT_EQ(r.next().kind, ParseKind::NeedMore);
  }
  // The last piece of the refused body and the next frame in one read.
  std::vector<std::byte> last(left, std::byte{0xEE});
  auto good = frame(15, 1, "after");
  last.insert(last.end(), good.begin(), good.end());
  r.feed(last);
  Parsed q = r.next();
  ASSERT_EQ(q.kind, ParseKind::Frame);
  EXPECT_EQ(q.header.stream_id, 15u);
  EXPECT_EQ(text(q.body), "after");
  EXPECT_FALSE(r.mid_frame());
}

TEST(FrameReader, RefusedBodyAlreadyBufferedIsDropped) {
  FrameReader r(8);
  auto big = frame(1, 1, "0123456789");  // 10 > 8
  auto good = frame(3, 1, "ok");
  big.insert(big.end(), good.begin(), good.end());
  r.feed(big);
  EXPECT_EQ(r.next().kind, ParseKind::TooLong);
  Parsed p = r.next();
  ASSERT_EQ(p.kind, ParseKind::Frame);
  EXPECT_EQ(text(p.body), "ok");
}

TEST(FrameReader, LengthThatLiesLeavesTheReaderMidFrame) {
  // The header promises 1000 bytes, 10 arrive, then the peer stops (EOF).
  auto f = frame(1, 1, "0123456789", 1000);
  FrameReader r;
  r.feed(f);
  Parsed p = r.next();
  EXPECT_EQ(p.kind, ParseKind::NeedMore);
  EXPECT_EQ(p.need, kHeaderSize + 1000);
  EXPECT_TRUE(r.mid_frame());  // at EOF: the peer lied or died mid-frame
}

}  // namespace
}  // namespace hull::ttrpc
