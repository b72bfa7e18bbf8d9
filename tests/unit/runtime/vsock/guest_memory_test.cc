#include "runtime/vsock/guest_memory.h"

#include <gtest/gtest.h>

#include <array>

#include "runtime/vsock/limits.h"

namespace hull::vsock {
namespace {

class GuestMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mem_.add_region({0x0, 0x1000, 0x7f0000000000, ram_.data()}));
    ASSERT_TRUE(mem_.add_region({0x1000, 0x1000, 0x7f0000100000, ram_.data() + 0x1000}));
  }
  std::array<std::byte, 0x2000> ram_{};
  GuestMemory mem_;
};

TEST_F(GuestMemoryTest, SliceInsideOneRegion) {
  auto s = mem_.slice(0x1010, 0x20);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->data(), ram_.data() + 0x1010);
  EXPECT_EQ(s->size(), 0x20u);
  EXPECT_TRUE(mem_.slice(0xff0, 0x10));  // ends exactly at the region end
}

TEST_F(GuestMemoryTest, SliceOutsideMemoryIsRefused) {
  auto s = mem_.slice(0x2000, 1);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, FaultKind::NotInGuestMemory);
  EXPECT_EQ(s.error().a, 0x2000u);
  EXPECT_EQ(s.error().b, 1u);
}

TEST_F(GuestMemoryTest, SliceSpanningTwoAdjacentRegionsIsRefused) {
  auto s = mem_.slice(0xff0, 0x20);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, FaultKind::NotInGuestMemory);
}

TEST_F(GuestMemoryTest, WrappingRangeIsRefused) {
  auto s = mem_.slice(UINT64_MAX - 4, 16);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, FaultKind::RangeOverflow);
}

TEST_F(GuestMemoryTest, EmptySliceNeedsNoMemory) {
  auto s = mem_.slice(0xdead0000, 0);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->empty());
}

TEST_F(GuestMemoryTest, ReadWriteRoundTrip) {
  const std::array<std::byte, 3> in{std::byte{1}, std::byte{2}, std::byte{3}};
  ASSERT_TRUE(mem_.write(0x1800, in));
  std::array<std::byte, 3> out{};
  ASSERT_TRUE(mem_.read(0x1800, out));
  EXPECT_EQ(in, out);
  EXPECT_FALSE(mem_.write(0x1fff, in));
}

TEST_F(GuestMemoryTest, UserAddressTranslation) {
  auto g = mem_.uaddr_to_gpa(0x7f0000100010, 0x10);
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, 0x1010u);
  auto bad = mem_.uaddr_to_gpa(0x7f0000100ff8, 0x10);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, FaultKind::UaddrNotMapped);
}

TEST(GuestMemory, RegionChecks) {
  std::array<std::byte, 64> ram{};
  GuestMemory m;
  auto empty = m.add_region({0, 0, 0, ram.data()});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, FaultKind::RegionEmpty);
  auto wrap = m.add_region({UINT64_MAX - 1, 16, 0, ram.data()});
  ASSERT_FALSE(wrap);
  EXPECT_EQ(wrap.error().kind, FaultKind::RangeOverflow);
  ASSERT_TRUE(m.add_region({0x100, 0x100, 0x1000, ram.data()}));
  auto overlap = m.add_region({0x180, 0x100, 0x9000, ram.data()});
  ASSERT_FALSE(overlap);
  EXPECT_EQ(overlap.error().kind, FaultKind::RegionOverlap);
  auto uoverlap = m.add_region({0x9000, 0x100, 0x1080, ram.data()});
  ASSERT_FALSE(uoverlap);
  EXPECT_EQ(uoverlap.error().kind, FaultKind::RegionOverlap);
}

TEST(GuestMemory, AtMostEightRegions) {
  std::array<std::byte, 16> ram{};
  GuestMemory m;
  for (uint64_t i = 0; i < limits::kMaxMemRegions; ++i)
    ASSERT_TRUE(m.add_region({i * 0x1000, 16, i * 0x1000, ram.data()}));
  auto r = m.add_region({0x100000, 16, 0x100000, ram.data()});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, FaultKind::TooManyRegions);
  EXPECT_EQ(r.error().a, 9u);
  EXPECT_EQ(r.error().b, 8u);
}

}  // namespace
}  // namespace hull::vsock
