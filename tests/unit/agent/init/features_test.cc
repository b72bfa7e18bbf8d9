#include "agent/init/features.h"

#include <gtest/gtest.h>

namespace hull::agent::init {
namespace {

TEST(Features, DescribeIsOneLineNamingEachFeature) {
  GuestFeatures f;
  EXPECT_EQ(describe(f),
            "cgroup=none bpf=0 cgroup_bpf=0 psi=0 keys=0 checkpoint_restore=0 hugetlbfs=0 "
            "overlay=0 virtiofs=0 page_reporting=0 virtio_rng=no-driver "
            "virtio_balloon=no-driver vsock=no-driver rng=none packet=0 ipv6=0 "
            "policy_routing=0 virtio_net=no-driver");
  f.cgroup_controllers = {"cpuset", "cpu", "memory"};
  f.bpf = f.cgroup_bpf = f.psi = true;
  f.virtio_rng_devices = 1;
  f.virtio_balloon_devices = 0;
  f.rng_current = "virtio_rng.0";
  f.packet = f.ipv6 = f.policy_routing = true;
  f.virtio_net_devices = 2;
  std::string d = describe(f);
  EXPECT_NE(d.find(" packet=1 ipv6=1 policy_routing=1 virtio_net=2"), std::string::npos) << d;
  EXPECT_NE(d.find("cgroup=cpuset,cpu,memory bpf=1 cgroup_bpf=1 psi=1"), std::string::npos) << d;
  EXPECT_NE(d.find("virtio_rng=1 virtio_balloon=0 vsock=no-driver rng=virtio_rng.0"),
            std::string::npos)
      << d;
}

TEST(Features, ProbeOnTheHostDoesNotFail) {
  // Reads only; on a host it sees the host's kernel. It must not crash or throw.
  GuestFeatures f = probe_features();
  EXPECT_FALSE(describe(f).empty());
}

}  // namespace
}  // namespace hull::agent::init
