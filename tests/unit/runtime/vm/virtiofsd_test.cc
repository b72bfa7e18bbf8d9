#include "runtime/vm/virtiofsd.h"

#include <gtest/gtest.h>

namespace hull::vm {
namespace {

TEST(VirtiofsdArgv, Defaults) {
  VirtiofsdSpec s;
  s.path = "/usr/lib/qemu/virtiofsd";
  s.source_dir = "/run/hull/sandboxes/a/shared";
  std::vector<std::string> want = {"/usr/lib/qemu/virtiofsd",
                                   "--fd=3",
                                   "-o",
                                   "source=/run/hull/sandboxes/a/shared",
                                   "-o",
                                   "cache=auto",
                                   "-o",
                                   "sandbox=namespace",
                                   "-o",
                                   "announce_submounts",
                                   "-o",
                                   "modcaps=-mknod:-setfcap",
                                   "--thread-pool-size=0"};
  EXPECT_EQ(virtiofsd_argv(s), want);
}

TEST(VirtiofsdArgv, CacheModesAndChroot) {
  VirtiofsdSpec s;
  s.path = "/v";
  s.source_dir = "/s";
  s.socket_fd = 7;
  s.sandbox = VirtiofsdSandbox::Chroot;
  s.thread_pool_size = 0;
  s.cache = config::VirtiofsCache::Never;
  auto a = virtiofsd_argv(s);
  EXPECT_EQ(a[1], "--fd=7");
  EXPECT_EQ(a[5], "cache=none");
  EXPECT_EQ(a[7], "sandbox=chroot");
  EXPECT_EQ(a.back(), "--thread-pool-size=0");
  s.cache = config::VirtiofsCache::Always;
  EXPECT_EQ(virtiofsd_argv(s)[5], "cache=always");
}

TEST(VirtiofsdArgv, PathsWithCommasAreRefused) {
  EXPECT_TRUE(virtiofsd_path_ok("/run/hull/x/shared"));
  EXPECT_FALSE(virtiofsd_path_ok("/tmp/a,b/shared"));
  EXPECT_FALSE(virtiofsd_path_ok(""));
}

}  // namespace
}  // namespace hull::vm
