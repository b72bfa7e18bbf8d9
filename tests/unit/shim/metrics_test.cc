#include "shim/metrics.h"

#include <gtest/gtest.h>

#include <limits>

namespace hull::shim {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

agent::CgroupStats sample_stats() {
  agent::CgroupStats s;
  s.set_cpu_usage_usec(1000);
  s.set_cpu_user_usec(600);
  s.set_cpu_system_usec(400);
  s.set_cpu_nr_periods(7);
  s.set_cpu_nr_throttled(2);
  s.set_cpu_throttled_usec(90);
  s.set_memory_current(4096);
  s.set_memory_max(8192);
  s.set_memory_swap_current(12);
  s.set_pids_current(3);
  s.set_pids_max(64);
  s.set_oom_kills(1);
  s.set_memory_events_max(5);
  (*s.mutable_memory_stat())["anon"] = 100;
  (*s.mutable_memory_stat())["inactive_file"] = 200;
  (*s.mutable_memory_stat())["pgmajfault"] = 3;
  (*s.mutable_memory_stat())["usage"] = 999999;      // not memory.stat's to say
  (*s.mutable_memory_stat())["zswap_written"] = 77;  // no field for it
  auto* d = s.add_io_devices();
  d->set_major(254);
  d->set_minor(1);
  d->set_rbytes(10);
  d->set_wbytes(20);
  d->set_rios(1);
  d->set_wios(2);
  return s;
}

TEST(ShimMetrics, EveryCounterLandsInItsField) {
  auto m = to_metrics(sample_stats());
  EXPECT_EQ(m.pids().current(), 3u);
  EXPECT_EQ(m.pids().limit(), 64u);
  EXPECT_EQ(m.cpu().usage_usec(), 1000u);
  EXPECT_EQ(m.cpu().user_usec(), 600u);
  EXPECT_EQ(m.cpu().system_usec(), 400u);
  EXPECT_EQ(m.cpu().nr_periods(), 7u);
  EXPECT_EQ(m.cpu().nr_throttled(), 2u);
  EXPECT_EQ(m.cpu().throttled_usec(), 90u);
  EXPECT_EQ(m.memory().usage(), 4096u);
  EXPECT_EQ(m.memory().usage_limit(), 8192u);
  EXPECT_EQ(m.memory().swap_usage(), 12u);
  EXPECT_EQ(m.memory().anon(), 100u);
  EXPECT_EQ(m.memory().inactive_file(), 200u);
  EXPECT_EQ(m.memory().pgmajfault(), 3u);
  EXPECT_EQ(m.memory_events().max(), 5u);
  EXPECT_EQ(m.memory_events().oom_kill(), 1u);
  ASSERT_EQ(m.io().usage_size(), 1);
  EXPECT_EQ(m.io().usage(0).major(), 254u);
  EXPECT_EQ(m.io().usage(0).minor(), 1u);
  EXPECT_EQ(m.io().usage(0).rbytes(), 10u);
  EXPECT_EQ(m.io().usage(0).wbytes(), 20u);
  EXPECT_EQ(m.io().usage(0).rios(), 1u);
  EXPECT_EQ(m.io().usage(0).wios(), 2u);
}

TEST(ShimMetrics, UnlimitedIsMaxAsTheCgroupsLibrarySays) {
  agent::CgroupStats s;
  auto m = to_metrics(s);
  EXPECT_EQ(m.memory().usage_limit(), kMax);
  EXPECT_EQ(m.pids().limit(), kMax);
}

TEST(ShimMetrics, AnyHasContainerdsBareTypeUrl) {
  auto any = metrics_any(sample_stats());
  EXPECT_EQ(any.type_url(), "io.containerd.cgroups.v2.Metrics");
  io::containerd::cgroups::v2::Metrics back;
  ASSERT_TRUE(back.ParseFromString(any.value()));
  EXPECT_EQ(back.memory().usage(), 4096u);
}

}  // namespace
}  // namespace hull::shim
