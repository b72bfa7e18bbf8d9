#include "runtime/sandbox/layout.h"

#include <gtest/gtest.h>

namespace hull::sandbox {
namespace {

TEST(SandboxId, Charset) {
  EXPECT_TRUE(validate_sandbox_id("abc-1.2_3"));
  EXPECT_FALSE(validate_sandbox_id(""));
  EXPECT_FALSE(validate_sandbox_id("-abc"));
  EXPECT_FALSE(validate_sandbox_id("a/b"));
  EXPECT_FALSE(validate_sandbox_id(".."));
  EXPECT_FALSE(validate_sandbox_id("a b"));
  EXPECT_FALSE(validate_sandbox_id(std::string(kMaxSandboxIdBytes + 1, 'a')));
  EXPECT_EQ(validate_sandbox_id("a/b").error().code, Errc::Invalid);
}

TEST(SandboxPaths, ShortIdKeepsItsName) {
  auto p = sandbox_paths("/run/hull", "pod1");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->hashed);
  EXPECT_EQ(p->dir, "/run/hull/sandboxes/pod1");
  EXPECT_EQ(p->qmp_socket, "/run/hull/sandboxes/pod1/qmp.sock");
  EXPECT_EQ(p->vhost_vsock_socket, "/run/hull/sandboxes/pod1/vhost-vsock.sock");
  EXPECT_EQ(p->vsock_socket, "/run/hull/sandboxes/pod1/vsock.sock");
  EXPECT_EQ(p->virtiofsd_socket, "/run/hull/sandboxes/pod1/virtiofsd.sock");
  EXPECT_EQ(p->console_log, "/run/hull/sandboxes/pod1/console.log");
  EXPECT_EQ(p->shared_dir, "/run/hull/sandboxes/pod1/shared");
}

TEST(SandboxPaths, ContainerdIdFitsUnderRunHull) {
  auto p = sandbox_paths("/run/hull", std::string(64, 'f'));  // 64 hex digits
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->hashed);
}

TEST(SandboxPaths, TrailingSlashesOfRootAreDropped) {
  auto p = sandbox_paths("/run/hull//", "x");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->dir, "/run/hull/sandboxes/x");
}

TEST(SandboxPaths, LongIdIsHashedAndFits) {
  std::string id(80, 'f');
  auto p = sandbox_paths("/run/hull", id);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->hashed);
  EXPECT_EQ(p->dir.size(), std::string("/run/hull/sandboxes/h-0123456789abcdef").size());
  EXPECT_LE(p->vsock_socket.size() + kHybridSuffixBytes, kMaxSocketPathBytes);
  EXPECT_LE(p->vhost_vsock_socket.size(), kMaxSocketPathBytes);
  auto again = sandbox_paths("/run/hull", id);
  EXPECT_EQ(again->dir, p->dir);
  auto other = sandbox_paths("/run/hull", std::string(80, 'e'));
  EXPECT_NE(other->dir, p->dir);
}

TEST(SandboxPaths, ExactlyFittingIdIsNotHashed) {
  // "/r/sandboxes/<id>/vsock.sock" + 11 == 107 bytes.
  std::string prefix = "/r/sandboxes/";
  size_t room =
      kMaxSocketPathBytes - kHybridSuffixBytes - prefix.size() - std::string("/vsock.sock").size();
  auto fits = sandbox_paths("/r", std::string(room, 'a'));
  ASSERT_TRUE(fits);
  EXPECT_FALSE(fits->hashed);
  auto over = sandbox_paths("/r", std::string(room + 1, 'a'));
  ASSERT_TRUE(over);
  EXPECT_TRUE(over->hashed);
}

TEST(SandboxPaths, RejectsRelativeOrHugeRoot) {
  EXPECT_EQ(sandbox_paths("run/hull", "x").error().code, Errc::Invalid);
  EXPECT_EQ(sandbox_paths("/" + std::string(200, 'r'), "x").error().code, Errc::Invalid);
  EXPECT_EQ(sandbox_paths("/run/hull", "../x").error().code, Errc::Invalid);
}

TEST(GuestCid, FromInodeOrHash) {
  EXPECT_EQ(guest_cid_for(1234, "x"), 1234u);
  EXPECT_EQ(guest_cid_for(0xfffffffe, "x"), 0xfffffffeu);
  for (ino_t bad : {ino_t{0}, ino_t{2}, ino_t{0xffffffff}, ino_t{0x100000000}}) {
    uint32_t cid = guest_cid_for(bad, "x");
    EXPECT_GE(cid, 3u);
    EXPECT_LT(cid, 3u + (1u << 31));
  }
}

TEST(Fnv1a, KnownValues) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
}

}  // namespace
}  // namespace hull::sandbox
