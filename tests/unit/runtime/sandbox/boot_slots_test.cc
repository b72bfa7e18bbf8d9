#include "runtime/sandbox/boot_slots.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

namespace hull::sandbox {
namespace {

using namespace std::chrono_literals;

class BootSlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-boot-slots.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(BootSlotTest, AtMostSlotsHeldAndTheRestTimeOut) {
  auto a = BootSlot::acquire(root_, 2, 0ms);
  auto b = BootSlot::acquire(root_, 2, 0ms);
  ASSERT_TRUE(a) << a.error().what();
  ASSERT_TRUE(b) << b.error().what();
  auto c = BootSlot::acquire(root_, 2, 120ms);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::Timeout);
  EXPECT_NE(c.error().what().find("one of the 2 boot slots in " + root_ + "/boot-slots"),
            std::string::npos)
      << c.error().what();
}

TEST_F(BootSlotTest, AQueuedStartTakesTheSlotOnceFreed) {
  auto a = BootSlot::acquire(root_, 1, 0ms);
  ASSERT_TRUE(a);
  std::thread freer([&] {
    std::this_thread::sleep_for(200ms);
    a->release();
  });
  auto b = BootSlot::acquire(root_, 1, 10s);
  freer.join();
  ASSERT_TRUE(b) << b.error().what();
  EXPECT_TRUE(b->held());
  EXPECT_GE(b->waited(), 150ms);
}

TEST_F(BootSlotTest, ReleasedOnDestruction) {
  {
    auto a = BootSlot::acquire(root_, 1, 0ms);
    ASSERT_TRUE(a);
  }
  auto b = BootSlot::acquire(root_, 1, 0ms);
  EXPECT_TRUE(b);
}

TEST(BootSlotCount, TwoPerCpuAndAtLeastTwo) {
  EXPECT_GE(boot_slot_count(), 2u);
  EXPECT_EQ(boot_slot_count() % kBootSlotsPerCpu, 0u);
}

}  // namespace
}  // namespace hull::sandbox
