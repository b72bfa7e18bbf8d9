// Sharing a container's rootfs and bind sources into a sandbox's shared dir
// (runtime/share/share.h), as root on the host: what the guest will find
// there, who can reach it, and the namespace paths checked on the way.
#include "runtime/share/share.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace hull::container {
namespace {

namespace fs = std::filesystem;

class ShareTest : public testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (bind mounts)";
    std::string tmpl = (fs::temp_directory_path() / "hull-share-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;  // 0700, like the sandbox directory
    shared_ = dir_ + "/shared";
    ASSERT_EQ(::mkdir(shared_.c_str(), 0711), 0);  // as Sandbox::create makes it
    bundle_ = dir_ + "/bundle";
    fs::create_directories(bundle_ + "/rootfs");
    fs::create_directories(bundle_ + "/vol");
    std::ofstream(bundle_ + "/rootfs/file") << "root";
    std::ofstream(bundle_ + "/vol/f") << "vol";
    std::ofstream(bundle_ + "/hosts") << "127.0.0.1 localhost\n";
    for (const char* p : {"/bundle", "/bundle/rootfs", "/bundle/vol"}) {
      ::chmod((dir_ + p).c_str(), 0755);
    }
    ::chmod((bundle_ + "/hosts").c_str(), 0644);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  oci::Spec spec() const {
    oci::Spec s = oci::default_spec();
    s.root->path = "rootfs";
    oci::Mount vol;
    vol.destination = "/data";
    vol.source = "vol";  // relative to the bundle
    vol.options = std::vector<std::string>{"rbind", "ro"};
    oci::Mount hosts;
    hosts.destination = "/etc/hosts";
    hosts.type = "bind";
    hosts.source = bundle_ + "/hosts";
    s.mounts->push_back(vol);
    s.mounts->push_back(hosts);
    return s;
  }

  // Runs `fn` in a child with uid/gid 1000 and cwd the shared dir (the guest's
  // view starts there); returns its exit status.
  template <typename Fn>
  int as_mapped_uid(Fn fn) const {
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(shared_.c_str()) != 0 || ::setgroups(0, nullptr) != 0 || ::setgid(1000) != 0 ||
          ::setuid(1000) != 0) {
        ::_exit(99);
      }
      ::_exit(fn());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }

  std::string dir_, shared_, bundle_;
};

TEST_F(ShareTest, BindSourcesKeepTheirNameAndAnUnprivilegedUidReachesThem) {
  auto shared = share_container(shared_, "c1", spec(), bundle_);
  ASSERT_TRUE(shared) << shared.error().what();
  auto g = nlohmann::json::parse(shared->guest_spec_json);
  const auto& mounts = g["mounts"];
  ASSERT_GE(mounts.size(), 2u);
  EXPECT_EQ(mounts[mounts.size() - 2]["source"], "containers/c1/mounts/0/vol");
  EXPECT_EQ(mounts[mounts.size() - 1]["source"], "containers/c1/mounts/1/hosts");
  for (std::string rel : {"containers/c1/rootfs/file", "containers/c1/mounts/0/vol/f",
                          "containers/c1/mounts/1/hosts"}) {
    // A container with a user namespace resolves these as its mapped root.
    EXPECT_EQ(as_mapped_uid([&] { return ::access(rel.c_str(), R_OK) == 0 ? 0 : errno; }), 0)
        << rel;
  }
  // Nothing hull made lists its entries to others.
  for (std::string rel :
       {"containers", "containers/c1", "containers/c1/mounts", "containers/c1/mounts/0"}) {
    struct stat st {};
    ASSERT_EQ(::stat((shared_ + "/" + rel).c_str(), &st), 0) << rel;
    EXPECT_EQ(st.st_mode & 07777, 0711u) << rel;
  }
  // ro stays ro on the host side too.
  int fd = ::open((shared_ + "/containers/c1/mounts/0/vol/new").c_str(),
                  O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(errno, EROFS);
  if (fd >= 0) ::close(fd);

  ASSERT_TRUE(shared->unshare());
  EXPECT_FALSE(fs::exists(shared_ + "/containers/c1/mounts/0"));
  EXPECT_FALSE(fs::exists(shared_ + "/containers/c1/mounts/1"));
  EXPECT_TRUE(fs::exists(bundle_ + "/vol/f")) << "the source itself stays";
  EXPECT_TRUE(fs::exists(bundle_ + "/hosts"));
}

TEST_F(ShareTest, UnshareRemovesOnlyWhatItMade) {
  auto shared = share_container(shared_, "c1", spec(), bundle_);
  ASSERT_TRUE(shared) << shared.error().what();
  // A guest renames mounts/1 through virtio-fs and leaves a symlink to a host
  // directory in its place.
  std::string m1 = shared_ + "/containers/c1/mounts/1";
  std::string moved = shared_ + "/containers/c1/mounts/moved";
  fs::rename(m1, moved);
  fs::create_directory(dir_ + "/decoy");
  std::ofstream(dir_ + "/decoy/hosts") << "keep";
  fs::create_directory_symlink(dir_ + "/decoy", m1);
  EXPECT_TRUE(shared->unshare());
  EXPECT_TRUE(fs::exists(dir_ + "/decoy/hosts"));
  EXPECT_FALSE(fs::exists(moved + "/hosts")) << "unmounted where it went, and removed";
  EXPECT_FALSE(fs::exists(shared_ + "/containers/c1/mounts/0"));
}

TEST_F(ShareTest, RootfsIsUnmountedWhereverTheGuestMovedIt) {
  auto rootfs = sandbox::SharedRootfs::create(shared_, "c1", bundle_ + "/rootfs", true);
  ASSERT_TRUE(rootfs) << rootfs.error().what();
  EXPECT_EQ(rootfs->guest_path(), "containers/c1/rootfs");
  std::string file = shared_ + "/containers/c1/rootfs/file";
  EXPECT_TRUE(fs::exists(file));
  EXPECT_EQ(::access(file.c_str(), W_OK), -1) << "read-only";
  // The guest renames containers/c1 and plants a symlink to a host directory
  // whose "rootfs" is somebody else's mount.
  std::string moved = shared_ + "/containers/moved";
  fs::rename(shared_ + "/containers/c1", moved);
  std::string decoy = dir_ + "/decoy";
  fs::create_directories(decoy + "/rootfs");
  ASSERT_EQ(::mount("tmpfs", (decoy + "/rootfs").c_str(), "tmpfs", 0, nullptr), 0);
  std::ofstream(decoy + "/rootfs/other") << "x";
  fs::create_directory_symlink(decoy, shared_ + "/containers/c1");
  (void)rootfs->remove();
  EXPECT_TRUE(fs::exists(decoy + "/rootfs/other")) << "somebody else's mount stays";
  EXPECT_FALSE(fs::exists(moved + "/rootfs/file")) << "ours is gone";
  ::umount2((decoy + "/rootfs").c_str(), MNT_DETACH);
  ::umount2((moved + "/rootfs").c_str(), MNT_DETACH);
}

TEST_F(ShareTest, MissingSourceIsNamed) {
  oci::Spec s = spec();
  s.mounts->back().source = bundle_ + "/missing";
  auto shared = share_container(shared_, "c1", s, bundle_);
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().code, Errc::NotFound);
  EXPECT_NE(shared.error().msg.find("/etc/hosts"), std::string::npos) << shared.error().msg;
  EXPECT_NE(shared.error().msg.find(bundle_ + "/missing"), std::string::npos);
}

TEST(NamespacePaths, MustNameANamespaceOfTheirType) {
  oci::Spec s = oci::default_spec();
  auto set_net = [&](const std::string& path) {
    for (auto& ns : *s.linux->namespaces) {
      if (ns.type == "network") ns.path = path;
    }
  };
  set_net("/proc/self/ns/net");
  EXPECT_TRUE(check_namespace_paths(s));
  set_net("/proc/self/ns/pid");
  auto wrong = check_namespace_paths(s);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::Invalid);
  EXPECT_NE(wrong.error().msg.find("/proc/self/ns/pid: not a network namespace"), std::string::npos)
      << wrong.error().msg;
  set_net("/nonexistent/ns");
  EXPECT_FALSE(check_namespace_paths(s));
  set_net("/proc/self/status");
  auto not_ns = check_namespace_paths(s);
  ASSERT_FALSE(not_ns);
  EXPECT_NE(not_ns.error().msg.find("not a namespace file"), std::string::npos);
}

// A read-only bind is read-only in every mount namespace the shared dir
// propagates to (virtiofsd's), "rro" below the bind too, and the guest spec
// names what is mounted below an rbind's source.
TEST_F(ShareTest, ReadOnlyReachesThePropagatedCopyAndSubmountsAreListed) {
  std::string sub = bundle_ + "/vol/sub";
  fs::create_directories(sub);
  ASSERT_EQ(::mount("tmpfs", sub.c_str(), "tmpfs", 0, "size=64k"), 0);
  sandbox::MountGuard sub_guard(sub);  // and what is below it
  fs::create_directories(sub + "/deeper");
  ASSERT_EQ(::mount("tmpfs", (sub + "/deeper").c_str(), "tmpfs", 0, "size=64k"), 0);
  auto shared_mount = sandbox::make_shared_mount(shared_);
  ASSERT_TRUE(shared_mount) << shared_mount.error().what();
  // The peer stands for virtiofsd's copy of the shared dir.
  std::string peer = dir_ + "/peer";
  fs::create_directory(peer);
  ASSERT_EQ(::mount(shared_.c_str(), peer.c_str(), nullptr, MS_BIND, nullptr), 0);
  sandbox::MountGuard peer_guard(peer);

  struct Case {
    std::vector<std::string> options;
    bool top_ro, sub_ro;
  };
  int n = 0;
  // A plain "ro" is read-only with its submounts as "rro" is (issue 13: a
  // volume said read-only must not have writable holes); "rrw" reopens all.
  for (const Case& k : {Case{{"rbind", "ro"}, true, true}, Case{{"rbind", "rro"}, true, true},
                        Case{{"rbind", "ro", "rrw"}, false, false}}) {
    std::string id = "c" + std::to_string(n++);
    oci::Spec s = oci::default_spec();
    s.root->path = "rootfs";
    oci::Mount vol;
    vol.destination = "/data";
    vol.source = "vol";
    vol.options = k.options;
    vol.extra["io.hull.submounts"] = {"../../etc"};  // a caller's value goes
    s.mounts->push_back(vol);
    auto shared = share_container(shared_, id, s, bundle_);
    ASSERT_TRUE(shared) << shared.error().what();
    auto g = nlohmann::json::parse(shared->guest_spec_json);
    EXPECT_EQ(g["mounts"].back()["io.hull.submounts"], (nlohmann::json{"sub", "sub/deeper"}));
    for (const std::string& root : {shared_, peer}) {
      std::string vol_dir = root + "/containers/" + id + "/mounts/0/vol";
      auto writable = [](const std::string& path) {
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return false;
        ::close(fd);
        ::unlink(path.c_str());
        return true;
      };
      std::string what = testing::PrintToString(k.options) + " at " + root;
      EXPECT_EQ(!writable(vol_dir + "/new"), k.top_ro) << what;
      EXPECT_EQ(!writable(vol_dir + "/sub/new"), k.sub_ro) << what;
      EXPECT_EQ(!writable(vol_dir + "/sub/deeper/new"), k.sub_ro) << what;
    }
    ASSERT_TRUE(shared->unshare());
  }
}

TEST(BindReadonly, RuncOrder) {
  auto ro = [](std::vector<std::string> o) {
    oci::Mount m;
    m.options = std::move(o);
    return bind_readonly(m);
  };
  EXPECT_EQ(ro({"rbind"}), (BindReadonly{false, std::nullopt}));
  EXPECT_EQ(ro({"rbind", "ro"}), (BindReadonly{true, std::nullopt}));
  EXPECT_EQ(ro({"ro", "rw"}), (BindReadonly{false, std::nullopt}));
  EXPECT_EQ(ro({"rro"}), (BindReadonly{true, true}));
  EXPECT_EQ(ro({"rro", "rw"}), (BindReadonly{true, true})) << "recursive goes last (runc)";
  EXPECT_EQ(ro({"ro", "rrw"}), (BindReadonly{false, false}));
  EXPECT_EQ(ro({"rrw", "rro"}), (BindReadonly{true, true}));
}

}  // namespace
}  // namespace hull::container
