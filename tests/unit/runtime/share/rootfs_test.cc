// SharedRootfs and mount propagation (root only): a mount made below a shared
// rootfs after virtiofsd started must reach virtiofsd's mount namespace (a
// slave of the host's, as virtiofsd's sandbox=namespace makes it) and must not
// reach the host's view of root.path, also when root.path is on a shared mount
// (the host's / on systemd hosts). Everything runs in a private mount
// namespace of the test process.
#include "runtime/share/rootfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/sandbox/mount_guard.h"

namespace hull::sandbox {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child in a mount namespace of its own whose mounts are slaves of ours, as
// virtiofsd's; killed and reaped by the destructor.
class SlaveNamespace {
 public:
  SlaveNamespace() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[0]);
      bool ok = ::unshare(CLONE_NEWNS) == 0 &&
                ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) == 0;
      (void)!::write(p[1], ok ? "y" : "n", 1);
      for (;;) ::pause();
    }
    ::close(p[1]);
    char c = 0;
    ready_ = pid_ > 0 && ::read(p[0], &c, 1) == 1 && c == 'y';
    ::close(p[0]);
  }
  ~SlaveNamespace() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  // `path` as the child's mount namespace resolves it.
  std::string view(const std::string& path) const {
    return "/proc/" + std::to_string(pid_) + "/root" + path;
  }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

class ContainerShareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount namespaces)";
    static bool in_private_ns = ::unshare(CLONE_NEWNS) == 0 &&
                                ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    ASSERT_TRUE(in_private_ns) << "unshare(CLONE_NEWNS): " << strerror(errno);
    char tmpl[] = "/tmp/hull-share-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    if (root_.empty()) return;
    ::umount2(root_.c_str(), MNT_DETACH);
    fs::remove_all(root_);
  }
  std::string root_;
};

TEST_F(ContainerShareTest, AMountBelowTheRootfsReachesTheSlaveNamespaceOnly) {
  // root_ is a shared tmpfs, as the host's / is on systemd hosts.
  ASSERT_EQ(::mount("tmpfs", root_.c_str(), "tmpfs", 0, nullptr), 0);
  ASSERT_EQ(::mount(nullptr, root_.c_str(), nullptr, MS_SHARED, nullptr), 0);
  fs::create_directories(root_ + "/bundle/rootfs/lib");
  std::ofstream(root_ + "/bundle/rootfs/lib/x").flush();
  std::ofstream(root_ + "/hostfile") << "from-the-host";
  fs::create_directories(root_ + "/sandbox/shared");
  auto shared = make_shared_mount(root_ + "/sandbox/shared");
  ASSERT_TRUE(shared) << shared.error().what();

  SlaveNamespace virtiofsd;  // started before the container is shared, as in a sandbox
  ASSERT_TRUE(virtiofsd.ready());
  auto share =
      SharedRootfs::create(root_ + "/sandbox/shared", "c1", root_ + "/bundle/rootfs", false);
  ASSERT_TRUE(share) << share.error().what();
  // What a createContainer hook does in its working directory.
  std::string x = share->host_path() + "/lib/x";
  ASSERT_EQ(::mount((root_ + "/hostfile").c_str(), x.c_str(), nullptr, MS_BIND, nullptr), 0)
      << strerror(errno);

  EXPECT_EQ(slurp(x), "from-the-host");
  EXPECT_EQ(slurp(virtiofsd.view(x)), "from-the-host");
  EXPECT_EQ(slurp(root_ + "/bundle/rootfs/lib/x"), "");  // the host's bundle: untouched
  EXPECT_FALSE(is_mount_point(root_ + "/bundle/rootfs/lib/x"));

  EXPECT_TRUE(share->remove());  // takes the hook's mount along
  EXPECT_FALSE(is_mount_point(x));
  EXPECT_EQ(slurp(root_ + "/bundle/rootfs/lib/x"), "");
}

TEST_F(ContainerShareTest, ReadonlyShareStaysReadonly) {
  fs::create_directories(root_ + "/bundle/rootfs");
  fs::create_directories(root_ + "/sandbox/shared");
  auto shared = make_shared_mount(root_ + "/sandbox/shared");
  ASSERT_TRUE(shared) << shared.error().what();
  auto share =
      SharedRootfs::create(root_ + "/sandbox/shared", "c1", root_ + "/bundle/rootfs", true);
  ASSERT_TRUE(share) << share.error().what();
  int fd = ::open((share->host_path() + "/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  EXPECT_LT(fd, 0);
  EXPECT_EQ(errno, EROFS);
  if (fd >= 0) ::close(fd);
}

}  // namespace
}  // namespace hull::sandbox
