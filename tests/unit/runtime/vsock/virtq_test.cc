// The split ring over an in-memory "guest": well-formed chains, every
// malformed-chain fault, and the notification rules.
#include "runtime/vsock/virtq.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include "tests/fakes/vsock_guest.h"

namespace hull::vsock::virtq {
namespace {

using testing::FakeDriver;
using testing::FakeGuestRam;

class VirtqTest : public ::testing::Test {
 protected:
  void SetUp() override { mem_ = ram_.memory(); }

  SplitQueue make(bool event_idx = false, bool indirect = true) {
    QueueSetup s{drv_.size(),     drv_.desc_gpa(), drv_.avail_gpa(),
                 drv_.used_gpa(), event_idx,       indirect};
    auto q = SplitQueue::create(mem_, s, 0);
    if (!q) ADD_FAILURE() << describe(q.error());
    return std::move(*q);
  }
  uint64_t buf(uint32_t len) { return ram_.alloc(len, 8); }
  FaultKind pop_fault(SplitQueue& q) {
    const PopResult r = q.pop(chain_);
    EXPECT_EQ(r.kind, PopKind::BadChain);
    return r.fault.kind;
  }

  FakeGuestRam ram_;
  GuestMemory mem_;
  FakeDriver drv_{ram_, 16};
  Chain chain_;
};

TEST_F(VirtqTest, EmptyRing) {
  SplitQueue q = make();
  EXPECT_EQ(q.pop(chain_).kind, PopKind::Empty);
  EXPECT_FALSE(q.has_available());
}

TEST_F(VirtqTest, ChainOfReadableThenWritable) {
  SplitQueue q = make();
  drv_.set_desc(3, buf(10), 10, kDescNext, 7);
  drv_.set_desc(7, buf(20), 20, kDescNext | kDescWrite, 9);
  drv_.set_desc(9, buf(30), 30, kDescWrite, 0);
  drv_.make_avail(3);
  const PopResult r = q.pop(chain_);
  ASSERT_EQ(r.kind, PopKind::Chain);
  EXPECT_EQ(chain_.head, 3);
  ASSERT_EQ(chain_.segments.size(), 3u);
  EXPECT_EQ(chain_.readable_len, 10u);
  EXPECT_EQ(chain_.writable_len, 50u);
  EXPECT_FALSE(chain_.segments[0].writable);
  EXPECT_TRUE(chain_.segments[2].writable);
  q.add_used(3, 42);
  EXPECT_EQ(drv_.used_idx(), 1);
  EXPECT_EQ(drv_.used_elem(0), (std::pair<uint32_t, uint32_t>{3, 42}));
  EXPECT_EQ(q.next_avail(), 1);
}

TEST_F(VirtqTest, IndirectTable) {
  SplitQueue q = make();
  const uint64_t table = drv_.make_table({{buf(8), 8, kDescNext, 1}, {buf(16), 16, kDescWrite, 0}});
  drv_.set_desc(0, table, 32, kDescIndirect, 0);
  drv_.make_avail(0);
  ASSERT_EQ(q.pop(chain_).kind, PopKind::Chain);
  EXPECT_EQ(chain_.readable_len, 8u);
  EXPECT_EQ(chain_.writable_len, 16u);
}

TEST_F(VirtqTest, LoopIsDetected) {
  SplitQueue q = make();
  drv_.set_desc(0, buf(4), 4, kDescNext, 1);
  drv_.set_desc(1, buf(4), 4, kDescNext, 0);
  drv_.make_avail(0);
  const PopResult r = q.pop(chain_);
  ASSERT_EQ(r.kind, PopKind::BadChain);
  EXPECT_TRUE(r.head_valid);
  EXPECT_EQ(r.fault.kind, FaultKind::DescriptorLoop);
  EXPECT_EQ(r.fault.a, 0u);
  EXPECT_EQ(chain_.head, 0);
  EXPECT_TRUE(chain_.segments.empty());
}

TEST_F(VirtqTest, SelfLoopIsDetected) {
  SplitQueue q = make();
  drv_.set_desc(5, buf(4), 4, kDescNext, 5);
  drv_.make_avail(5);
  EXPECT_EQ(pop_fault(q), FaultKind::DescriptorLoop);
}

TEST_F(VirtqTest, ChainLongerThanQueueIsRefused) {
  SplitQueue q = make();
  // 20 distinct entries in an indirect table of a 16-entry queue: too long.
  std::vector<std::array<uint64_t, 4>> entries;
  for (uint64_t i = 0; i < 16; ++i) entries.push_back({buf(1), 1, kDescNext, i + 1});
  entries.back()[2] = 0;
  const uint64_t table = drv_.make_table(entries);
  drv_.set_desc(0, buf(1), 1, kDescNext, 1);
  drv_.set_desc(1, table, 16 * 16, kDescIndirect, 0);
  drv_.make_avail(0);
  const PopResult r = q.pop(chain_);
  ASSERT_EQ(r.kind, PopKind::BadChain);
  EXPECT_EQ(r.fault.kind, FaultKind::ChainTooLong);
  EXPECT_EQ(r.fault.a, 17u);
  EXPECT_EQ(r.fault.b, 16u);
}

TEST_F(VirtqTest, NextIndexOutOfRange) {
  SplitQueue q = make();
  drv_.set_desc(0, buf(4), 4, kDescNext, 16);
  drv_.make_avail(0);
  const PopResult r = q.pop(chain_);
  EXPECT_EQ(r.fault.kind, FaultKind::DescOutOfRange);
  EXPECT_EQ(r.fault.a, 16u);
  EXPECT_EQ(r.fault.b, 16u);
}

TEST_F(VirtqTest, HeadIndexOutOfRange) {
  SplitQueue q = make();
  drv_.make_avail(40);
  const PopResult r = q.pop(chain_);
  ASSERT_EQ(r.kind, PopKind::BadChain);
  EXPECT_FALSE(r.head_valid);  // nothing to return to the used ring
  EXPECT_EQ(r.fault.kind, FaultKind::HeadOutOfRange);
  EXPECT_EQ(q.pop(chain_).kind, PopKind::Empty);  // the slot was consumed
}

TEST_F(VirtqTest, AddressOutsideMemory) {
  SplitQueue q = make();
  drv_.set_desc(0, 0x40000000, 64, 0, 0);
  drv_.make_avail(0);
  const PopResult r = q.pop(chain_);
  EXPECT_EQ(r.fault.kind, FaultKind::NotInGuestMemory);
  EXPECT_EQ(r.fault.a, 0x40000000u);
}

TEST_F(VirtqTest, AddressInBiosHole) {
  SplitQueue q = make();
  drv_.set_desc(0, FakeGuestRam::kRegion0Size + 16, 16, 0, 0);
  drv_.make_avail(0);
  EXPECT_EQ(pop_fault(q), FaultKind::NotInGuestMemory);
}

TEST_F(VirtqTest, BufferSpanningTwoRegions) {
  SplitQueue q = make();
  drv_.set_desc(0, FakeGuestRam::kRegion0Size - 8, 16, 0, 0);
  drv_.make_avail(0);
  EXPECT_EQ(pop_fault(q), FaultKind::NotInGuestMemory);
}

TEST_F(VirtqTest, WrappingAddress) {
  SplitQueue q = make();
  drv_.set_desc(0, UINT64_MAX - 8, 64, 0, 0);
  drv_.make_avail(0);
  EXPECT_EQ(pop_fault(q), FaultKind::RangeOverflow);
}

TEST_F(VirtqTest, IndirectInsideIndirect) {
  SplitQueue q = make();
  const uint64_t inner = drv_.make_table({{buf(8), 8, 0, 0}});
  const uint64_t outer = drv_.make_table({{inner, 16, kDescIndirect, 0}});
  drv_.set_desc(0, outer, 16, kDescIndirect, 0);
  drv_.make_avail(0);
  EXPECT_EQ(pop_fault(q), FaultKind::IndirectInIndirect);
}

TEST_F(VirtqTest, IndirectWithNext) {
  SplitQueue q = make();
  const uint64_t table = drv_.make_table({{buf(8), 8, 0, 0}});
  drv_.set_desc(0, table, 16, kDescIndirect | kDescNext, 1);
  drv_.set_desc(1, buf(8), 8, 0, 0);
  drv_.make_avail(0);
  EXPECT_EQ(pop_fault(q), FaultKind::IndirectWithNext);
}

TEST_F(VirtqTest, IndirectWithoutTheFeature) {
  SplitQueue q = make(false, /*indirect=*/false);
  const uint64_t table = drv_.make_table({{buf(8), 8, 0, 0}});
  drv_.set_desc(0, table, 16, kDescIndirect, 0);
  drv_.make_avail(0);
  EXPECT_EQ(pop_fault(q), FaultKind::IndirectNotNegotiated);
}

TEST_F(VirtqTest, IndirectTableSizes) {
  SplitQueue q = make();
  const uint64_t table = drv_.make_table({{buf(8), 8, 0, 0}});
  for (uint32_t len : {0u, 15u, 17u, 16u * 17u}) {
    drv_.set_desc(0, table, len, kDescIndirect, 0);
    drv_.make_avail(0);
    const PopResult r = q.pop(chain_);
    EXPECT_EQ(r.fault.kind, FaultKind::IndirectTableSize) << len;
    EXPECT_EQ(r.fault.a, len);
  }
}

TEST_F(VirtqTest, IndirectTableOutsideMemory) {
  SplitQueue q = make();
  drv_.set_desc(0, 0x7000000000, 32, kDescIndirect, 0);
  drv_.make_avail(0);
  EXPECT_EQ(pop_fault(q), FaultKind::NotInGuestMemory);
}

TEST_F(VirtqTest, IndirectTableLoop) {
  SplitQueue q = make();
  std::vector<std::array<uint64_t, 4>> entries{{buf(1), 1, kDescNext, 1},
                                               {buf(1), 1, kDescNext, 0}};
  drv_.set_desc(0, drv_.make_table(entries), 32, kDescIndirect, 0);
  drv_.make_avail(0);
  EXPECT_EQ(pop_fault(q), FaultKind::DescriptorLoop);
}

TEST_F(VirtqTest, ReadableAfterWritable) {
  SplitQueue q = make();
  drv_.set_desc(0, buf(8), 8, kDescWrite | kDescNext, 1);
  drv_.set_desc(1, buf(8), 8, 0, 0);
  drv_.make_avail(0);
  EXPECT_EQ(pop_fault(q), FaultKind::ReadableAfterWritable);
}

TEST_F(VirtqTest, LengthOverflow) {
  // A 3 GiB region of reserved address space (never touched: the walk only
  // checks ranges) so two descriptors can claim more than 2^32 bytes in all.
  constexpr uint64_t kHuge = 0xC0000000;
  void* reserved =
      ::mmap(nullptr, kHuge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(reserved, MAP_FAILED);
  GuestMemory mem = ram_.memory();
  ASSERT_TRUE(mem.add_region({0x200000000, kHuge, 0x200000000, static_cast<std::byte*>(reserved)}));
  drv_.set_desc(0, 0x200000000, static_cast<uint32_t>(kHuge), kDescNext, 1);
  drv_.set_desc(1, 0x200000000, static_cast<uint32_t>(kHuge), 0, 0);
  drv_.make_avail(0);
  QueueSetup s{drv_.size(), drv_.desc_gpa(), drv_.avail_gpa(), drv_.used_gpa(), false, false};
  auto q = SplitQueue::create(mem, s, 0);
  ASSERT_TRUE(q);
  const PopResult r = q->pop(chain_);
  EXPECT_EQ(r.fault.kind, FaultKind::ChainLengthOverflow);
  EXPECT_EQ(r.fault.a, kHuge);
  EXPECT_EQ(r.fault.b, kHuge);
  ::munmap(reserved, kHuge);
}

TEST_F(VirtqTest, AvailIndexJumpBreaksTheRing) {
  SplitQueue q = make();
  drv_.set_avail_idx(17);  // 17 new entries in a 16-entry ring: impossible
  const PopResult r = q.pop(chain_);
  EXPECT_EQ(r.kind, PopKind::RingBroken);
  EXPECT_EQ(r.fault.kind, FaultKind::AvailIdxJump);
  EXPECT_EQ(r.fault.a, 17u);
}

TEST_F(VirtqTest, FreeRunningIndexesWrap) {
  QueueSetup s{drv_.size(), drv_.desc_gpa(), drv_.avail_gpa(), drv_.used_gpa(), false, false};
  drv_.set_avail_idx(65535);
  auto q = SplitQueue::create(mem_, s, 65535);
  ASSERT_TRUE(q);
  drv_.set_desc(2, buf(4), 4, 0, 0);
  drv_.make_avail(2);  // slot 65535 % 16, idx becomes 0
  drv_.make_avail(2);
  EXPECT_EQ(q->pop(chain_).kind, PopKind::Chain);
  EXPECT_EQ(q->pop(chain_).kind, PopKind::Chain);
  EXPECT_EQ(q->next_avail(), 1);
  EXPECT_EQ(q->pop(chain_).kind, PopKind::Empty);
}

TEST_F(VirtqTest, UndoPopGivesTheChainBack) {
  SplitQueue q = make();
  drv_.set_desc(0, buf(4), 4, kDescWrite, 0);
  drv_.make_avail(0);
  ASSERT_EQ(q.pop(chain_).kind, PopKind::Chain);
  q.undo_pop();
  EXPECT_TRUE(q.has_available());
  EXPECT_EQ(q.pop(chain_).kind, PopKind::Chain);
}

TEST_F(VirtqTest, CreateChecksSizeAlignmentAndRanges) {
  QueueSetup s{12, drv_.desc_gpa(), drv_.avail_gpa(), drv_.used_gpa(), false, false};
  auto q = SplitQueue::create(mem_, s, 0);
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().kind, FaultKind::QueueSizeInvalid);
  s.size = 65536;
  EXPECT_EQ(SplitQueue::create(mem_, s, 0).error().kind, FaultKind::QueueSizeInvalid);
  s.size = 16;
  s.desc_gpa += 8;
  EXPECT_EQ(SplitQueue::create(mem_, s, 0).error().kind, FaultKind::RingMisaligned);
  s.desc_gpa = drv_.desc_gpa();
  s.used_gpa += 2;
  EXPECT_EQ(SplitQueue::create(mem_, s, 0).error().kind, FaultKind::RingMisaligned);
  s.used_gpa = 0x7ffffff0;
  EXPECT_EQ(SplitQueue::create(mem_, s, 0).error().kind, FaultKind::NotInGuestMemory);
}

TEST_F(VirtqTest, NotifyWithoutEventIdxHonoursNoInterrupt) {
  SplitQueue q = make(false);
  EXPECT_FALSE(q.needs_notify());  // nothing used yet
  drv_.set_desc(0, buf(4), 4, 0, 0);
  drv_.make_avail(0);
  ASSERT_EQ(q.pop(chain_).kind, PopKind::Chain);
  q.add_used(0, 0);
  EXPECT_TRUE(q.needs_notify());
  drv_.make_avail(0);
  ASSERT_EQ(q.pop(chain_).kind, PopKind::Chain);
  q.add_used(0, 0);
  drv_.set_avail_flags(kAvailNoInterrupt);
  EXPECT_FALSE(q.needs_notify());
}

TEST_F(VirtqTest, EventIdxRule) {
  SplitQueue q = make(true);
  drv_.set_desc(0, buf(4), 4, 0, 0);
  for (int i = 0; i < 3; ++i) drv_.make_avail(0);
  drv_.set_used_event(1);  // interrupt me once used.idx passes 1
  ASSERT_EQ(q.pop(chain_).kind, PopKind::Chain);
  q.add_used(0, 0);  // used 1: 1-1-1 = 0xffff, not < 1
  EXPECT_FALSE(q.needs_notify());
  ASSERT_EQ(q.pop(chain_).kind, PopKind::Chain);
  q.add_used(0, 0);  // used 2: (2-1-1)=0 < (2-1)=1
  EXPECT_TRUE(q.needs_notify());
  ASSERT_EQ(q.pop(chain_).kind, PopKind::Chain);
  q.add_used(0, 0);  // used 3, used_event still 1: (3-1-1)=1 < 1? no
  EXPECT_FALSE(q.needs_notify());
}

TEST_F(VirtqTest, EventIdxPublishesAvailEventWhenDrained) {
  SplitQueue q = make(true);
  drv_.set_desc(0, buf(4), 4, 0, 0);
  drv_.make_avail(0);
  drv_.make_avail(0);
  ASSERT_EQ(q.pop(chain_).kind, PopKind::Chain);
  ASSERT_EQ(q.pop(chain_).kind, PopKind::Chain);
  EXPECT_EQ(q.pop(chain_).kind, PopKind::Empty);
  EXPECT_EQ(drv_.avail_event(), 2);
}

}  // namespace
}  // namespace hull::vsock::virtq
