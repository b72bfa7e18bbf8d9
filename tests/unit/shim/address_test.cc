#include "shim/address.h"

#include <gtest/gtest.h>

namespace hull::shim {
namespace {

TEST(ShimAddress, JoinCleansLikeGo) {
  EXPECT_EQ(join_clean({"/run/containerd/containerd.sock", "default", "abc"}),
            "/run/containerd/containerd.sock/default/abc");
  EXPECT_EQ(join_clean({"/a//b/", "./c", "../d"}), "/a/b/d");
  EXPECT_EQ(join_clean({"/..", "x"}), "/x");
  EXPECT_EQ(join_clean({"a", "..", ".."}), "..");
  EXPECT_EQ(join_clean({"", ""}), "");
  EXPECT_EQ(join_clean({"/"}), "/");
}

TEST(ShimAddress, Sha256) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// As containerd's runc shim names it: sha256 of "<address>/<ns>/<group>".
TEST(ShimAddress, SocketAddressIsContainerdsConvention) {
  EXPECT_EQ(socket_address("/run/containerd/containerd.sock", "default", "abc"),
            "unix:///run/containerd/s/"
            "8cb244a719603fe00870d5ce1d8e1f1db43a654cb993d107df1f1ae23ddffa59");
  EXPECT_EQ(socket_address("/run/containerd/containerd.sock/", "default", "abc"),
            socket_address("/run/containerd/containerd.sock", "default", "abc"));
  EXPECT_NE(socket_address("/a", "ns1", "x"), socket_address("/a", "ns2", "x"));
  EXPECT_EQ(socket_path_of("unix:///run/x"), "/run/x");
  EXPECT_EQ(socket_path_of("/run/x"), "/run/x");
}

TEST(ShimAddress, GroupIsThePodsSandboxId) {
  EXPECT_EQ(group_of({}, "task"), "task");
  EXPECT_EQ(group_of({{"io.kubernetes.cri.sandbox-id", "pod1"}}, "task"), "pod1");
  EXPECT_EQ(group_of({{"io.kubernetes.cri.sandbox-id", ""}}, "task"), "task");
  auto bad = group_of({{"io.kubernetes.cri.sandbox-id", "../etc"}}, "task");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::Invalid);
  EXPECT_NE(bad.error().msg.find("io.kubernetes.cri.sandbox-id"), std::string::npos);
}

}  // namespace
}  // namespace hull::shim
