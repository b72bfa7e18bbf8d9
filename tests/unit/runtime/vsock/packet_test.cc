#include "runtime/vsock/packet.h"

#include <gtest/gtest.h>

#include <cstring>

#include "runtime/vsock/limits.h"
#include "tests/fakes/vsock_guest.h"

namespace hull::vsock::packet {
namespace {

using testing::FakeDriver;
using testing::FakeGuestRam;

Header sample() {
  Header h;
  h.src_cid = 3;
  h.dst_cid = 2;
  h.src_port = 2250883352U;
  h.dst_port = 1234;
  h.len = 0;
  h.type = kTypeStream;
  h.op = kOpRequest;
  h.flags = 0;
  h.buf_alloc = 262144;
  h.fwd_cnt = 0;
  return h;
}

TEST(PacketHeader, WireLayoutIsLittleEndianAt44Bytes) {
  Header h = sample();
  h.flags = 0x01020304;
  h.fwd_cnt = 0xa0b0c0d0;
  const auto b = encode(h);
  ASSERT_EQ(b.size(), 44u);
  EXPECT_EQ(b[0], std::byte{3});
  EXPECT_EQ(b[8], std::byte{2});
  uint32_t src_port;
  std::memcpy(&src_port, b.data() + 16, 4);
  EXPECT_EQ(src_port, 2250883352U);
  EXPECT_EQ(b[28], std::byte{1});  // type
  EXPECT_EQ(b[30], std::byte{1});  // op
  EXPECT_EQ(b[32], std::byte{4});  // flags low byte
  EXPECT_EQ(b[43], std::byte{0xa0});
  EXPECT_EQ(decode(b), h);
}

TEST(PacketValidate, EachErrorValue) {
  EXPECT_TRUE(validate_tx(sample(), 3));
  Header h = sample();
  h.src_cid = 4;
  EXPECT_EQ(validate_tx(h, 3).error().kind, FaultKind::BadSrcCid);
  h = sample();
  h.dst_cid = 1;
  EXPECT_EQ(validate_tx(h, 3).error().kind, FaultKind::BadDstCid);
  h = sample();
  h.type = kTypeSeqpacket;
  EXPECT_EQ(validate_tx(h, 3).error().kind, FaultKind::BadType);
  h = sample();
  h.op = kOpInvalid;
  EXPECT_EQ(validate_tx(h, 3).error().kind, FaultKind::BadOp);
  h.op = 8;
  auto f = validate_tx(h, 3);
  EXPECT_EQ(f.error().kind, FaultKind::BadOp);
  EXPECT_EQ(f.error().a, 8u);
  h = sample();
  h.len = 5;
  f = validate_tx(h, 3);
  EXPECT_EQ(f.error().kind, FaultKind::PayloadOnControlOp);
  EXPECT_EQ(f.error().a, kOpRequest);
  EXPECT_EQ(f.error().b, 5u);
  h.op = kOpRw;
  h.len = limits::kMaxPacketPayload + 1;
  EXPECT_EQ(validate_tx(h, 3).error().kind, FaultKind::PayloadTooLarge);
  h.len = limits::kMaxPacketPayload;
  EXPECT_TRUE(validate_tx(h, 3));
}

class PacketChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mem_ = ram_.memory();
    virtq::QueueSetup s{drv_.size(),     drv_.desc_gpa(), drv_.avail_gpa(),
                        drv_.used_gpa(), false,           true};
    auto q = virtq::SplitQueue::create(mem_, s, 0);
    ASSERT_TRUE(q);
    q_.emplace(std::move(*q));
  }
  virtq::Chain& pop() {
    EXPECT_EQ(q_->pop(chain_).kind, virtq::PopKind::Chain);
    return chain_;
  }
  FakeGuestRam ram_;
  GuestMemory mem_;
  FakeDriver drv_{ram_, 64};
  std::optional<virtq::SplitQueue> q_;
  virtq::Chain chain_;
  std::vector<std::byte> payload_;
};

TEST_F(PacketChainTest, HeaderAndPayloadSplitAcrossDescriptors) {
  Header h = sample();
  h.op = kOpRw;
  const std::string data = "hello, vsock payload spanning descriptors";
  h.len = static_cast<uint32_t>(data.size());
  drv_.post_tx(h, testing::as_bytes(data), /*split=*/7);
  auto got = read_tx(pop(), payload_);
  ASSERT_TRUE(got) << describe(got.error());
  EXPECT_EQ(*got, h);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(payload_.data()), payload_.size()), data);
}

TEST_F(PacketChainTest, ChainTooShortForHeader) {
  const uint64_t b = ram_.alloc(20);
  drv_.set_desc(0, b, 20, 0, 0);
  drv_.make_avail(0);
  auto got = read_tx(pop(), payload_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, FaultKind::ChainTooShort);
  EXPECT_EQ(got.error().a, 20u);
  EXPECT_EQ(got.error().b, 44u);
}

TEST_F(PacketChainTest, ChainTooShortForPayload) {
  Header h = sample();
  h.op = kOpRw;
  h.len = 100;  // claims 100 bytes, carries 10
  drv_.post_tx(h, testing::as_bytes("0123456789"));
  auto got = read_tx(pop(), payload_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, FaultKind::ChainTooShort);
  EXPECT_EQ(got.error().a, 54u);
  EXPECT_EQ(got.error().b, 144u);
}

TEST_F(PacketChainTest, OversizedLenIsRefusedBeforeReading) {
  Header h = sample();
  h.op = kOpRw;
  h.len = 0xffffffff;
  drv_.post_tx(h);
  auto got = read_tx(pop(), payload_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, FaultKind::PayloadTooLarge);
  EXPECT_TRUE(payload_.empty());
}

TEST_F(PacketChainTest, TxChainWithWritableBuffer) {
  drv_.set_desc(0, ram_.alloc(44), 44, virtq::kDescNext, 1);
  drv_.set_desc(1, ram_.alloc(8), 8, virtq::kDescWrite, 0);
  drv_.make_avail(0);
  auto got = read_tx(pop(), payload_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, FaultKind::TxWritableDescriptor);
  EXPECT_EQ(got.error().a, 8u);
}

TEST_F(PacketChainTest, WriteRxAcrossBuffers) {
  const uint64_t a = ram_.alloc(30);
  const uint64_t b = ram_.alloc(100);
  drv_.set_desc(0, a, 30, virtq::kDescWrite | virtq::kDescNext, 1);
  drv_.set_desc(1, b, 100, virtq::kDescWrite, 0);
  drv_.make_avail(0);
  virtq::Chain& c = pop();
  auto room = rx_payload_room(c);
  ASSERT_TRUE(room);
  EXPECT_EQ(*room, 86u);
  Header h = sample();
  h.op = kOpRw;
  const std::string data = "payload";
  auto used = write_rx(c, h, testing::as_bytes(data));
  ASSERT_TRUE(used);
  EXPECT_EQ(*used, 44u + data.size());
  std::vector<std::byte> raw = ram_.read(a, 30);
  const auto tail = ram_.read(b, 14 + data.size());
  raw.insert(raw.end(), tail.begin(), tail.end());
  Header back = decode(std::span<const std::byte, 44>(raw.data(), 44));
  EXPECT_EQ(back.len, data.size());
  EXPECT_EQ(std::memcmp(raw.data() + 44, data.data(), data.size()), 0);
  // Too much payload for the chain.
  std::string big(87, 'x');
  auto over = write_rx(c, h, testing::as_bytes(big));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().kind, FaultKind::ChainTooShort);
}

TEST_F(PacketChainTest, RxChainErrors) {
  drv_.set_desc(0, ram_.alloc(40), 40, virtq::kDescWrite, 0);
  drv_.make_avail(0);
  auto small = rx_payload_room(pop());
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().kind, FaultKind::ChainTooShort);
  drv_.set_desc(1, ram_.alloc(64), 64, 0, 0);
  drv_.make_avail(1);
  auto readable = rx_payload_room(pop());
  ASSERT_FALSE(readable);
  EXPECT_EQ(readable.error().kind, FaultKind::RxReadableDescriptor);
}

TEST_F(PacketChainTest, PayloadSpansSkipTheHeader) {
  drv_.set_desc(0, ram_.alloc(50), 50, virtq::kDescWrite | virtq::kDescNext, 1);
  drv_.set_desc(1, ram_.alloc(100), 100, virtq::kDescWrite, 0);
  drv_.make_avail(0);
  auto spans = rx_payload_spans(pop(), 80);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].size(), 6u);
  EXPECT_EQ(spans[1].size(), 74u);
}

}  // namespace
}  // namespace hull::vsock::packet
