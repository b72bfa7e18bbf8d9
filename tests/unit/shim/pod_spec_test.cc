#include "shim/pod_spec.h"

#include <gtest/gtest.h>

namespace hull::shim {
namespace {

oci::Spec with_namespaces(std::vector<oci::Namespace> nss) {
  oci::Spec s = oci::default_spec();
  s.hostname.reset();
  s.linux->namespaces = std::move(nss);
  return s;
}

TEST(PodMemberSpec, ThePodsNamespacesBecomeTheVmsOrNewOnes) {
  auto s = with_namespaces({{"pid", "/proc/42/ns/pid"},
                            {"ipc", "/proc/42/ns/ipc"},
                            {"uts", "/proc/42/ns/uts"},
                            {"network", "/proc/42/ns/net"},
                            {"mount", std::nullopt}});
  oci::Spec got = pod_member_spec(s, 42, "web-0");
  ASSERT_EQ(got.linux->namespaces->size(), 5u);
  for (const auto& ns : *got.linux->namespaces) EXPECT_FALSE(ns.path) << ns.type;
  EXPECT_EQ(got.hostname, "web-0");
}

TEST(PodMemberSpec, OtherPathsStayForTheGuestSpecToRefuse) {
  auto s = with_namespaces({{"pid", "/proc/43/ns/pid"},
                            {"ipc", "/proc/42/ns/net"},
                            {"user", "/proc/42/ns/user"},
                            {"network", "/var/run/netns/cni-1"}});
  oci::Spec got = pod_member_spec(s, 42, "web-0");
  EXPECT_EQ(got.linux->namespaces, s.linux->namespaces);
  EXPECT_FALSE(got.hostname);
}

TEST(PodMemberSpec, AHostnameOfItsOwnIsKept) {
  auto s = with_namespaces({{"uts", "/proc/7/ns/uts"}});
  s.hostname = "mine";
  EXPECT_EQ(pod_member_spec(s, 7, "pod").hostname, "mine");
  // No pod pid yet: nothing changes.
  EXPECT_EQ(pod_member_spec(s, 0, "pod").linux->namespaces, s.linux->namespaces);
}

}  // namespace
}  // namespace hull::shim
