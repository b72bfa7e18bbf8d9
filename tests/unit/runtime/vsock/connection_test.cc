// Connection state machine and credit accounting (docs/vsock.md).
#include "runtime/vsock/connection.h"

#include <gtest/gtest.h>

#include <vector>

#include "runtime/vsock/limits.h"

namespace hull::vsock {
namespace {

using packet::Header;

constexpr uint64_t kGuestCid = 3;
constexpr uint32_t kBuf = limits::kConnBufAlloc;

Header from_guest(uint16_t op, uint32_t len = 0, uint32_t buf_alloc = 262144, uint32_t fwd_cnt = 0,
                  uint32_t flags = 0) {
  Header h;
  h.src_cid = kGuestCid;
  h.dst_cid = 2;
  h.src_port = 1024;
  h.dst_port = 1U << 30;
  h.len = len;
  h.op = op;
  h.flags = flags;
  h.buf_alloc = buf_alloc;
  h.fwd_cnt = fwd_cnt;
  return h;
}

Connection established_host_conn() {
  Connection c = Connection::host_initiated({1U << 30, 1024}, kGuestCid, kBuf);
  auto req = c.take_control();
  EXPECT_TRUE(req && req->op == packet::kOpRequest);
  auto ev = c.on_packet(from_guest(packet::kOpResponse));
  EXPECT_TRUE(ev && *ev == ConnEvent::Established);
  return c;
}

TEST(Connection, HostInitiatedHandshake) {
  Connection c = Connection::host_initiated({1U << 30, 1024}, kGuestCid, kBuf);
  EXPECT_EQ(c.state(), ConnState::AwaitResponse);
  auto req = c.take_control();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->op, packet::kOpRequest);
  EXPECT_EQ(req->src_cid, 2u);
  EXPECT_EQ(req->dst_cid, kGuestCid);
  EXPECT_EQ(req->src_port, 1U << 30);
  EXPECT_EQ(req->dst_port, 1024u);
  EXPECT_EQ(req->buf_alloc, kBuf);
  EXPECT_EQ(req->fwd_cnt, 0u);
  EXPECT_FALSE(c.has_control());
  EXPECT_FALSE(c.wants_host_read());  // nothing flows before RESPONSE
  auto ev = c.on_packet(from_guest(packet::kOpResponse));
  ASSERT_TRUE(ev);
  EXPECT_EQ(*ev, ConnEvent::Established);
  EXPECT_EQ(c.state(), ConnState::Established);
}

TEST(Connection, GuestInitiatedAnswersResponseWithGuestCredit) {
  Header req = from_guest(packet::kOpRequest, 0, 4096, 0);
  Connection c = Connection::guest_initiated({1025, 5000}, kGuestCid, kBuf, req);
  EXPECT_EQ(c.state(), ConnState::Established);
  auto resp = c.take_control();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->op, packet::kOpResponse);
  EXPECT_EQ(resp->src_port, 1025u);
  EXPECT_EQ(resp->dst_port, 5000u);
  EXPECT_EQ(c.peer_free(), 4096u);
}

TEST(Connection, RstBeforeResponseCloses) {
  Connection c = Connection::host_initiated({1U << 30, 1024}, kGuestCid, kBuf);
  (void)c.take_control();
  auto ev = c.on_packet(from_guest(packet::kOpRst));
  ASSERT_TRUE(ev);
  EXPECT_EQ(*ev, ConnEvent::Closed);
  EXPECT_EQ(c.state(), ConnState::Dead);
}

TEST(Connection, UnexpectedOps) {
  Connection c = Connection::host_initiated({1U << 30, 1024}, kGuestCid, kBuf);
  auto rw = c.on_packet(from_guest(packet::kOpRw, 10));
  ASSERT_FALSE(rw);
  EXPECT_EQ(rw.error().kind, FaultKind::UnexpectedOp);
  EXPECT_EQ(rw.error().a, packet::kOpRw);
  Connection e = established_host_conn();
  EXPECT_EQ(e.on_packet(from_guest(packet::kOpRequest)).error().kind, FaultKind::UnexpectedOp);
  EXPECT_EQ(e.on_packet(from_guest(packet::kOpResponse)).error().kind, FaultKind::UnexpectedOp);
}

TEST(Connection, SendCreditFollowsPeerBufAllocAndFwdCnt) {
  Connection c = established_host_conn();
  EXPECT_EQ(c.peer_free(), 262144u);
  const Header rw = c.make_rw(262144);
  EXPECT_EQ(rw.len, 262144u);
  EXPECT_EQ(c.peer_free(), 0u);
  EXPECT_FALSE(c.wants_host_read());
  // Guest consumed 1000 bytes and tells us in a CREDIT_UPDATE.
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpCreditUpdate, 0, 262144, 1000)));
  EXPECT_EQ(c.peer_free(), 1000u);
  EXPECT_TRUE(c.wants_host_read());
}

TEST(Connection, SendCreditWrapsAround) {
  Connection c = established_host_conn();
  c.set_counters_for_test(/*tx_cnt=*/0xfffffff0, 0, 0);
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpCreditUpdate, 0, 100, 0xffffffe0)));
  EXPECT_EQ(c.peer_free(), 84u);  // 16 in flight of 100
  (void)c.make_rw(40);            // tx_cnt wraps to 0x18
  EXPECT_EQ(c.tx_cnt(), 0x18u);
  EXPECT_EQ(c.peer_free(), 44u);
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpCreditUpdate, 0, 100, 0x18)));
  EXPECT_EQ(c.peer_free(), 100u);
}

TEST(Connection, PeerShrinkingBufAllocGivesZeroNotNegative) {
  Connection c = established_host_conn();
  (void)c.make_rw(5000);
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpCreditUpdate, 0, 1000, 0)));
  EXPECT_EQ(c.peer_free(), 0u);
}

TEST(Connection, ReceiveCreditIsEnforced) {
  Connection c = established_host_conn();
  auto ev = c.on_packet(from_guest(packet::kOpRw, kBuf));
  ASSERT_TRUE(ev);
  EXPECT_EQ(*ev, ConnEvent::Payload);
  EXPECT_EQ(c.unflushed(), kBuf);
  auto over = c.on_packet(from_guest(packet::kOpRw, 1));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().kind, FaultKind::CreditViolation);
  EXPECT_EQ(over.error().a, 1u);
  EXPECT_EQ(over.error().b, 0u);
  c.host_flushed(100);
  EXPECT_TRUE(c.on_packet(from_guest(packet::kOpRw, 100)));
}

TEST(Connection, ReceiveCreditWrapsAround) {
  Connection c = established_host_conn();
  c.set_counters_for_test(0, /*rx_cnt=*/0xffffff00, /*fwd_cnt=*/0xffffff00);
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpRw, 0x200)));  // rx_cnt wraps to 0x100
  EXPECT_EQ(c.unflushed(), 0x200u);
  c.host_flushed(0x200);
  EXPECT_EQ(c.fwd_cnt(), 0x100u);
  EXPECT_EQ(c.unflushed(), 0u);
}

TEST(Connection, CreditUpdateWhenGuestViewRunsLow) {
  Connection c = established_host_conn();
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpRw, kBuf - 1000)));
  c.host_flushed(kBuf - 1000);
  // The guest still thinks only 1000 bytes are free: tell it.
  auto upd = c.take_control();
  ASSERT_TRUE(upd);
  EXPECT_EQ(upd->op, packet::kOpCreditUpdate);
  EXPECT_EQ(upd->fwd_cnt, kBuf - 1000);
  EXPECT_EQ(upd->buf_alloc, kBuf);
  // A small flush while the guest sees plenty of room sends nothing.
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpRw, 10)));
  c.host_flushed(10);
  EXPECT_FALSE(c.has_control());
}

TEST(Connection, CreditRequestIsAnswered) {
  Connection c = established_host_conn();
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpCreditRequest)));
  auto upd = c.take_control();
  ASSERT_TRUE(upd);
  EXPECT_EQ(upd->op, packet::kOpCreditUpdate);
}

TEST(Connection, NoCreditAsksOnceUntilCreditChanges) {
  Connection c = established_host_conn();
  (void)c.make_rw(262144);
  c.no_credit();
  auto req = c.take_control();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->op, packet::kOpCreditRequest);
  c.no_credit();
  EXPECT_FALSE(c.has_control());
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpCreditUpdate, 0, 262144, 10)));
  c.no_credit();
  EXPECT_TRUE(c.has_control());
}

TEST(Connection, GuestShutdownSendThenFinish) {
  Connection c = established_host_conn();
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpRw, 10)));
  c.buffer(std::vector<std::byte>(10));
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpShutdown, 0, 262144, 0, packet::kShutdownSend)));
  EXPECT_FALSE(c.should_shut_host_write());  // 10 bytes still to flush
  c.consume_pending(10);
  EXPECT_TRUE(c.should_shut_host_write());
  c.host_write_shut();
  EXPECT_FALSE(c.finished());
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpShutdown, 0, 262144, 0, packet::kShutdownRcv)));
  EXPECT_TRUE(c.finished());
  const Header rst = c.make_rst();
  EXPECT_EQ(rst.op, packet::kOpRst);
  EXPECT_EQ(c.state(), ConnState::Dead);
}

TEST(Connection, ShutdownFlagsAreSticky) {
  Connection c = established_host_conn();
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpShutdown, 0, 262144, 0, packet::kShutdownSend)));
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpShutdown, 0, 262144, 0, 0)));
  auto rw = c.on_packet(from_guest(packet::kOpRw, 5));  // it said it would send no more
  ASSERT_FALSE(rw);
  EXPECT_EQ(rw.error().kind, FaultKind::UnexpectedOp);
}

TEST(Connection, GuestShutdownRcvStopsHostReads) {
  Connection c = established_host_conn();
  EXPECT_TRUE(c.wants_host_read());
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpShutdown, 0, 262144, 0, packet::kShutdownRcv)));
  EXPECT_FALSE(c.wants_host_read());
}

TEST(Connection, HostEofSendsShutdownSendAndWaitsForGuest) {
  Connection c = established_host_conn();
  c.host_eof();
  auto s = c.take_control();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->op, packet::kOpShutdown);
  EXPECT_EQ(s->flags, packet::kShutdownSend);
  EXPECT_FALSE(c.wants_host_read());
  EXPECT_FALSE(c.finished());
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpShutdown, 0, 262144, 0, packet::kShutdownSend)));
  EXPECT_TRUE(c.finished());
}

TEST(Connection, HostErrorSendsFullShutdownAndDiscards) {
  Connection c = established_host_conn();
  c.host_error();
  EXPECT_EQ(c.state(), ConnState::Closing);
  auto s = c.take_control();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->flags, packet::kShutdownRcv | packet::kShutdownSend);
  auto ev = c.on_packet(from_guest(packet::kOpRw, 100));  // in flight: discarded
  ASSERT_TRUE(ev);
  EXPECT_EQ(*ev, ConnEvent::None);
  EXPECT_EQ(c.unflushed(), 0u);
  auto rst = c.on_packet(from_guest(packet::kOpRst));
  ASSERT_TRUE(rst);
  EXPECT_EQ(*rst, ConnEvent::Closed);
}

TEST(Connection, PendingBufferKeepsOrder) {
  Connection c = established_host_conn();
  const std::string a = "abcdef";
  ASSERT_TRUE(c.on_packet(from_guest(packet::kOpRw, 6)));
  c.buffer(std::as_bytes(std::span(a)));
  c.consume_pending(4);
  ASSERT_EQ(c.pending().size(), 2u);
  EXPECT_EQ(static_cast<char>(c.pending()[0]), 'e');
  EXPECT_EQ(c.fwd_cnt(), 4u);
}

}  // namespace
}  // namespace hull::vsock
