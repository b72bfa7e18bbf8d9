#include "runtime/sandbox/boot_slots.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

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

// Nothing stays under the root once every slot is released.
TEST_F(BootSlotTest, ReleaseLeavesNothingBehind) {
  {
    auto a = BootSlot::acquire(root_, 2, 0ms);
    auto b = BootSlot::acquire(root_, 2, 0ms);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_TRUE(std::filesystem::exists(root_ + "/boot-slots"));
  }
  EXPECT_FALSE(std::filesystem::exists(root_ + "/boot-slots"));
  auto c = BootSlot::acquire(root_, 1, 0ms);  // and the directory comes back
  EXPECT_TRUE(c) << c.error().what();
}

// Many threads taking and releasing one slot: never two holders at once.
TEST_F(BootSlotTest, OneHolderAtATimeWhileFilesComeAndGo) {
  std::atomic<int> holders{0}, max_holders{0}, taken{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 6; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto s = BootSlot::acquire(root_, 1, 10s);
        if (!s) continue;
        int h = ++holders;
        int m = max_holders.load();
        while (h > m && !max_holders.compare_exchange_weak(m, h)) {
        }
        std::this_thread::sleep_for(1ms);
        --holders;
        ++taken;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(taken.load(), 120);
  EXPECT_EQ(max_holders.load(), 1);
  EXPECT_FALSE(std::filesystem::exists(root_ + "/boot-slots"));
}

TEST(BootSlotCount, TwoPerCpuAndAtLeastTwo) {
  EXPECT_GE(boot_slot_count(), 2u);
  EXPECT_EQ(boot_slot_count() % kBootSlotsPerCpu, 0u);
}

}  // namespace
}  // namespace hull::sandbox
