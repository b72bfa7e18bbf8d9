#include "common/dns_frame.h"

#include <gtest/gtest.h>

#include "common/dns_stream.h"

namespace hull::dns {
namespace {

std::vector<uint8_t> message(size_t n, uint8_t fill = 7) {
  std::vector<uint8_t> m(n, fill);
  if (n >= 2) {
    m[0] = 0x12;
    m[1] = 0x34;
  }
  return m;
}

TEST(DnsFrame, Mode) {
  EXPECT_EQ(*parse_mode('U'), Mode::Udp);
  EXPECT_EQ(*parse_mode('T'), Mode::Tcp);
  auto bad = parse_mode('X');
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::GuestProtocol);
  EXPECT_NE(bad.error().what().find("mode byte 88"), std::string::npos);
}

TEST(DnsFrame, MakeFrameBounds) {
  auto f = make_frame(message(12));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size(), 14u);
  EXPECT_EQ((*f)[0], 0);
  EXPECT_EQ((*f)[1], 12);
  EXPECT_FALSE(make_frame(message(11)));
  EXPECT_TRUE(make_frame(message(kMaxMessageBytes)));
  EXPECT_FALSE(make_frame(message(kMaxMessageBytes + 1)));
}

TEST(DnsFrame, TakeFrameWholeAndPartial) {
  auto f = *make_frame(message(300));
  EXPECT_FALSE(*take_frame({f.data(), 1}));
  EXPECT_FALSE(*take_frame({f.data(), 100}));
  auto whole = take_frame(f);
  ASSERT_TRUE(whole && *whole);
  EXPECT_EQ((*whole)->consumed, 302u);
  EXPECT_EQ((*whole)->message.size(), 300u);
  EXPECT_EQ(message_id((*whole)->message), 0x1234);
}

TEST(DnsFrame, ShortLengthIsNotDns) {
  std::vector<uint8_t> bad{0, 5, 1, 2, 3, 4, 5};
  auto r = take_frame(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::GuestProtocol);
  EXPECT_NE(r.error().what().find("a frame of 5 bytes"), std::string::npos);
  std::vector<uint8_t> zero{0, 0};
  EXPECT_FALSE(take_frame(zero));
}

TEST(DnsFrame, ReaderReassemblesAcrossFeeds) {
  auto a = *make_frame(message(20, 1));
  auto b = *make_frame(message(40, 2));
  std::vector<uint8_t> stream = a;
  stream.insert(stream.end(), b.begin(), b.end());
  FrameReader r;
  for (size_t i = 0; i < stream.size(); i += 7) {
    r.feed({stream.data() + i, std::min<size_t>(7, stream.size() - i)});
  }
  auto m1 = r.next();
  ASSERT_TRUE(m1 && *m1);
  EXPECT_EQ((*m1)->size(), 20u);
  auto m2 = r.next();
  ASSERT_TRUE(m2 && *m2);
  EXPECT_EQ((*m2)->size(), 40u);
  EXPECT_EQ((*m2)->back(), 2);
  auto none = r.next();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(DnsFrame, LogLimiterLetsABurstThroughThenCounts) {
  LogLimiter l(2, std::chrono::seconds(60));
  auto t0 = LogLimiter::Clock::time_point() + std::chrono::hours(1);
  uint64_t dropped = 99;
  EXPECT_TRUE(l.allow(t0, &dropped));
  EXPECT_EQ(dropped, 0u);
  EXPECT_TRUE(l.allow(t0, &dropped));
  EXPECT_FALSE(l.allow(t0, &dropped));
  EXPECT_FALSE(l.allow(t0 + std::chrono::seconds(59), &dropped));
  EXPECT_TRUE(l.allow(t0 + std::chrono::seconds(61), &dropped));
  EXPECT_EQ(dropped, 2u);
}

}  // namespace
}  // namespace hull::dns
