#include "runtime/sandbox/layout.h"

#include <gtest/gtest.h>

#include <string>

namespace hull::sandbox {
namespace {

// The id rule is common/container_id.h's (tests/unit/common): the layout
// takes every id runc takes and refuses the rest before joining a path.
TEST(SandboxPaths, IdRuleIsRuncs) {
  for (const char* id : {"abc-1.2_3", "a+b", "-abc"}) {
    auto p = sandbox_paths("/run/hull", id);
    ASSERT_TRUE(p) << id;
    EXPECT_EQ(p->dir, "/run/hull/sandboxes/" + std::string(id));
    EXPECT_FALSE(p->hashed);
  }
  for (const char* id : {"", "a/b", "..", "a b"}) {
    auto p = sandbox_paths("/run/hull", id);
    ASSERT_FALSE(p) << id;
    EXPECT_EQ(p.error().code, Errc::Invalid);
  }
  EXPECT_FALSE(sandbox_paths("/run/hull", std::string(256, 'a')));
}

// virtiofsd's and QEMU's option syntax split at ',': such an id gets the
// hashed directory name.
TEST(SandboxPaths, IdWithCommaIsHashed) {
  auto p = sandbox_paths("/run/hull", "a,b");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->hashed);
  EXPECT_EQ(p->dir.find(','), std::string::npos);
  EXPECT_FALSE(p->short_sockets());
}

TEST(SandboxPaths, ShortIdKeepsItsName) {
  auto p = sandbox_paths("/run/hull", "pod1");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->hashed);
  EXPECT_EQ(p->dir, "/run/hull/sandboxes/pod1");
  EXPECT_EQ(p->socket_dir, p->dir);
  EXPECT_FALSE(p->short_sockets());
  EXPECT_EQ(p->qmp_socket, "/run/hull/sandboxes/pod1/qmp.sock");
  EXPECT_EQ(p->vhost_vsock_socket, "/run/hull/sandboxes/pod1/vhost-vsock.sock");
  EXPECT_EQ(p->vsock_dir, "/run/hull/sandboxes/pod1/vsock");
  EXPECT_EQ(p->vsock_socket, "/run/hull/sandboxes/pod1/vsock/sock");
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

TEST(SandboxPaths, RejectsRelativeRoot) {
  EXPECT_EQ(sandbox_paths("run/hull", "x").error().code, Errc::Invalid);
  EXPECT_EQ(sandbox_paths("/run/hull", "../x").error().code, Errc::Invalid);
}

// Any root runc takes works: when even the hashed directory leaves the socket
// paths too long, the sockets go to a short directory whose length does not
// depend on the root, and which is different for each root and id.
TEST(SandboxPaths, DeepRootPutsSocketsInAShortDirectory) {
  std::string root = "/" + std::string(200, 'r');
  auto p = sandbox_paths(root, "x");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->short_sockets());
  EXPECT_EQ(p->dir.rfind(root + "/sandboxes/h-", 0), 0u) << p->dir;
  EXPECT_EQ(p->socket_dir.rfind(std::string(kShortSocketBase) + "/", 0), 0u) << p->socket_dir;
  EXPECT_EQ(p->socket_dir.size(), kShortSocketBase.size() + 1 + 16);
  EXPECT_EQ(p->qmp_socket, p->socket_dir + "/qmp.sock");
  EXPECT_EQ(p->vsock_socket, p->socket_dir + "/vsock/sock");
  EXPECT_EQ(p->vhost_vsock_socket, p->socket_dir + "/vhost-vsock.sock");
  EXPECT_EQ(p->virtiofsd_socket, p->socket_dir + "/virtiofsd.sock");
  EXPECT_EQ(p->console_log, p->dir + "/console.log");
  EXPECT_EQ(p->shared_dir, p->dir + "/shared");
  EXPECT_LE(p->vsock_socket.size() + kHybridSuffixBytes, kMaxSocketPathBytes);
  EXPECT_EQ(sandbox_paths(root, "x")->socket_dir, p->socket_dir);
  EXPECT_NE(sandbox_paths(root, "y")->socket_dir, p->socket_dir);
  EXPECT_NE(sandbox_paths(root + "2", "x")->socket_dir, p->socket_dir);
  // The longest: a 4000-byte root and a 255-byte id.
  auto deepest = sandbox_paths("/" + std::string(4000, 'd'), std::string(255, 'i'));
  ASSERT_TRUE(deepest);
  EXPECT_EQ(deepest->socket_dir.size(), p->socket_dir.size());
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
