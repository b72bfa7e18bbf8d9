#include "runtime/vsock/vhost_user_msg.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "runtime/vsock/limits.h"

namespace hull::vsock::vhost {
namespace {

std::vector<std::byte> words(std::initializer_list<uint32_t> w) {
  std::vector<std::byte> out(w.size() * 4);
  size_t i = 0;
  for (uint32_t v : w) std::memcpy(out.data() + 4 * i++, &v, 4);
  return out;
}

TEST(VhostUserHeader, Accepts) {
  auto h = parse_header(words({kGetFeatures, 1, 0}));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->request, kGetFeatures);
  EXPECT_FALSE(h->need_reply());
  auto n = parse_header(words({kSetMemTable, 1 | kFlagNeedReply, 264}));
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->need_reply());
}

TEST(VhostUserHeader, EachErrorValue) {
  EXPECT_EQ(parse_header(words({1, 2, 0})).error().kind, FaultKind::MsgBadFlags);
  EXPECT_EQ(parse_header(words({1, 1 | kFlagReply, 0})).error().kind, FaultKind::MsgBadFlags);
  auto big = parse_header(words({1, 1, 4097}));
  EXPECT_EQ(big.error().kind, FaultKind::MsgTooLarge);
  EXPECT_EQ(big.error().a, 4097u);
  EXPECT_EQ(big.error().b, limits::kMaxVhostUserPayload);
  EXPECT_EQ(parse_header(words({1, 1})).error().kind, FaultKind::MsgSizeMismatch);
}

TEST(VhostUserPayload, VringStateAndAddr) {
  auto s = parse_vring_state(kSetVringNum, words({1, 1024}), 2);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->num, 1024u);
  EXPECT_EQ(parse_vring_state(kSetVringNum, words({2, 1024}), 2).error().kind,
            FaultKind::MsgBadRing);
  EXPECT_EQ(parse_vring_state(kSetVringNum, words({1}), 2).error().kind,
            FaultKind::MsgSizeMismatch);
  auto a = parse_vring_addr(words({1, 0, 0x1000, 0, 0x3000, 0, 0x2000, 0, 0, 0}), 2);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->desc, 0x1000u);
  EXPECT_EQ(a->used, 0x3000u);  // used comes before avail on the wire
  EXPECT_EQ(a->avail, 0x2000u);
  EXPECT_EQ(parse_vring_addr(words({5, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 2).error().kind,
            FaultKind::MsgBadRing);
}

TEST(VhostUserPayload, VringFileFdRules) {
  auto f = parse_vring_file(kSetVringKick, words({1, 0}), 1, 2);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->has_fd);
  auto nofd = parse_vring_file(kSetVringCall, words({0x100, 0}), 0, 2);
  ASSERT_TRUE(nofd);
  EXPECT_FALSE(nofd->has_fd);
  EXPECT_EQ(parse_vring_file(kSetVringKick, words({0, 0}), 0, 2).error().kind,
            FaultKind::MsgFdCount);
  EXPECT_EQ(parse_vring_file(kSetVringKick, words({0x100, 0}), 1, 2).error().kind,
            FaultKind::MsgFdCount);
  EXPECT_EQ(parse_vring_file(kSetVringKick, words({7, 0}), 1, 2).error().kind,
            FaultKind::MsgBadRing);
}

TEST(VhostUserPayload, MemTable) {
  std::vector<std::byte> p(8 + 32 * 8);
  const uint32_t n = 2;
  std::memcpy(p.data(), &n, 4);
  const uint64_t r1[4] = {0x100000, 0xff00000, 0x7f0000100000, 0x100000};
  std::memcpy(p.data() + 8 + 32, r1, 32);
  auto t = parse_mem_table(p, 2);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[1].gpa, 0x100000u);
  EXPECT_EQ((*t)[1].mmap_offset, 0x100000u);
  EXPECT_EQ(parse_mem_table(p, 1).error().kind, FaultKind::MsgFdCount);
  const uint32_t nine = 9;
  std::memcpy(p.data(), &nine, 4);
  EXPECT_EQ(parse_mem_table(p, 9).error().kind, FaultKind::TooManyRegions);
  std::memcpy(p.data(), &n, 4);
  EXPECT_EQ(parse_mem_table(std::span(p).first(40), 2).error().kind, FaultKind::MsgSizeMismatch);
}

TEST(VhostUserPayload, ConfigAndU64) {
  auto c = parse_config(words({0, 8, 0, 0, 0}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->size, 8u);
  EXPECT_EQ(parse_config(words({0, 8, 0})).error().kind, FaultKind::MsgSizeMismatch);
  EXPECT_EQ(parse_u64(kSetFeatures, words({1})).error().kind, FaultKind::MsgSizeMismatch);
}

TEST(VhostUserReply, FlagsAreExactlyVersionAndReply) {
  auto r = build_u64_reply(kGetFeatures, kOfferedFeatures);
  ASSERT_EQ(r.size(), 20u);
  uint32_t flags, size;
  uint64_t v;
  std::memcpy(&flags, r.data() + 4, 4);
  std::memcpy(&size, r.data() + 8, 4);
  std::memcpy(&v, r.data() + 12, 8);
  EXPECT_EQ(flags, 0x5u);
  EXPECT_EQ(size, 8u);
  EXPECT_EQ(v, 0x170000000ULL);
  EXPECT_EQ(kOfferedProtocolFeatures, 0x209ULL);
}

}  // namespace
}  // namespace hull::vsock::vhost
