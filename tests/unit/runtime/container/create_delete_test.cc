// create's failure path and delete against the fake client and a fake
// monitor, with the state root on a tmpfs: the teardown steps come in the one
// order (runtime/container/teardown.h) and nothing is left afterwards — no
// state, no sandbox directory, no host cgroup, no monitor process.
//
// The seams (container.h: Seams): the agent is tests/fakes/fake_container_client.h;
// the monitor is a forked child that speaks the create handshake (sync.h) the
// way the real one does without booting a VM: Namespaces, then on Boot it
// makes its sandbox directory and reports Ready, then waits. The host cgroup
// is real (linux.cgroupsPath below a parent of this test's own), so the test
// needs root and a cgroup file system; it skips otherwise.
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "runtime/container/container.h"
#include "runtime/container/sync.h"
#include "runtime/hostcgroup/cgroup.h"
#include "runtime/sandbox/layout.h"
#include "tests/fakes/fake_container_client.h"

namespace hull::container {
namespace {

namespace fs = std::filesystem;

// The fake monitor (in a forked child): exits as soon as create closes its
// end of the handshake (create's failure path), else runs until killed.
void fake_monitor(const std::string& root, const std::string& id, int sync_fd) {
  SyncMessage ns;
  ns.type = SyncType::Namespaces;
  if (!send_sync(sync_fd, ns)) _exit(2);
  auto boot = recv_sync(sync_fd, std::chrono::seconds(30));
  if (!boot || boot->type != SyncType::Boot) _exit(3);
  auto paths = sandbox::sandbox_paths(root, id);
  if (!paths) _exit(4);
  std::error_code ec;
  fs::create_directories(paths->dir + "/shared", ec);
  if (ec) _exit(5);
  SyncMessage ready;
  ready.type = SyncType::Ready;
  ready.body["sandbox_dir"] = paths->dir;
  ready.body["vsock_socket"] = paths->vsock_socket;
  ready.body["procs"] = nlohmann::json::array();
  if (!send_sync(sync_fd, ready)) _exit(6);
  // Commit, or EOF when create gives up; the real monitor then tears its VM
  // down and exits. After Commit it runs until killed.
  auto next = recv_sync(sync_fd, std::chrono::seconds(60));
  if (!next) _exit(1);
  for (;;) ::pause();
}

class CreateDelete : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a tmpfs and a host cgroup)";
    char tmpl[] = "/tmp/hull-create-delete-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    fs::create_directories(root_);
    tmpfs_ = ::mount("tmpfs", root_.c_str(), "tmpfs", 0, "mode=0700") == 0;
    bundle_ = base_ + "/bundle";
    fs::create_directories(bundle_ + "/rootfs");
    id_ = "cd-" + std::to_string(::getpid());

    seams_.connect = [this](const Record&) -> Result<std::shared_ptr<sandbox::ContainerClient>> {
      return std::shared_ptr<sandbox::ContainerClient>(client_);
    };
    seams_.spawn_monitor = [this](const MonitorArgs& ma, int sync_fd) -> Result<pid_t> {
      pid_t pid = ::fork();
      if (pid < 0) return fail_errno("fork");
      if (pid == 0) {
        // As across the real monitor's exec: only its end of the handshake stays.
        if (sync_fd > 3) ::close_range(3, static_cast<unsigned>(sync_fd) - 1, 0);
        ::close_range(static_cast<unsigned>(sync_fd) + 1, ~0U, 0);
        fake_monitor(ma.root, ma.id, sync_fd);
        _exit(0);
      }
      monitor_ = pid;
      return pid;
    };
    seams_.trace = [this](std::string_view step) { note(std::string(step)); };
    client_->on_call = [this](const std::string& call) {
      note(call);
      // The container's processes killed: the real monitor stops its VM and
      // exits, and its parent (a reaper) reaps it.
      if (call.starts_with("signal ") && call.ends_with(" 9 all") && monitor_ > 0) {
        ::kill(monitor_, SIGKILL);
        (void)::waitpid(monitor_, nullptr, 0);
      }
    };
    ctx_.root = root_;
    ctx_.seams = &seams_;
  }

  void TearDown() override {
    if (base_.empty()) return;
    if (monitor_ > 0) {
      ::kill(monitor_, SIGKILL);
      (void)::waitpid(monitor_, nullptr, 0);
    }
    // A failed test's host cgroup (a passing one leaves none).
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup")) {
      fs::path parent = h.path() / "hull-unit-create-delete";
      ::rmdir((parent / id_).c_str());
      ::rmdir(parent.c_str());
    }
    if (tmpfs_) ::umount2(root_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  void note(const std::string& step) {
    std::lock_guard l(mu_);
    steps_.push_back(step);
  }
  std::vector<std::string> steps() {
    std::lock_guard l(mu_);
    return steps_;
  }

  // config.json: `sh` in ./rootfs, a network namespace of its own (loopback
  // only), its host cgroup under a parent of its own.
  void write_bundle(const std::string& hooks = "") {
    std::ofstream f(bundle_ + "/config.json");
    f << R"({"ociVersion": "1.0.2",
             "process": {"args": ["sh"], "cwd": "/"},
             "root": {"path": "rootfs"},)"
      << hooks << R"("linux": {"namespaces": [{"type": "network"}],
                       "cgroupsPath": "/hull-unit-create-delete/)"
      << id_ << R"("}})";
  }

  // The host cgroup directories the state records, to check they are gone.
  std::vector<std::string> cgroup_dirs() {
    std::vector<std::string> out;
    auto r = load_unlocked(ctx_, id_);
    if (!r || !r->host_cgroup) return out;
    auto cg = hostcgroup::Cgroup::from_json(*r->host_cgroup);
    if (!cg) return out;
    for (const auto& d : cg->dirs()) out.push_back(d.path);
    return out;
  }

  void expect_no_state() {
    auto st = state(ctx_, id_);
    ASSERT_FALSE(st) << "the state is still there";
    EXPECT_EQ(st.error().code, Errc::NotFound) << st.error().what();
  }

  // Nothing of the container is left on the host.
  void expect_nothing_left(const std::vector<std::string>& cgroups) {
    std::vector<std::string> left;
    for (const auto& e : fs::recursive_directory_iterator(root_)) left.push_back(e.path());
    // The store's and the sandboxes' parent directories may stay, empty.
    std::erase_if(left,
                  [&](const std::string& p) { return fs::is_directory(p) && fs::is_empty(p); });
    EXPECT_EQ(left, std::vector<std::string>{});
    for (const auto& d : cgroups) EXPECT_FALSE(fs::exists(d)) << d;
    EXPECT_TRUE(fs::exists(root_));
    if (monitor_ > 0) {
      // Reaped by create, or a zombie of ours after delete: not running either way.
      int ws = 0;
      pid_t got = ::waitpid(monitor_, &ws, WNOHANG);
      EXPECT_TRUE(got == monitor_ || (got < 0 && errno == ECHILD)) << "monitor still runs";
      monitor_ = 0;
    }
  }

  std::string base_, root_, bundle_, id_;
  bool tmpfs_ = false;
  std::shared_ptr<testing::FakeContainerClient> client_ =
      std::make_shared<testing::FakeContainerClient>();
  Seams seams_;
  Context ctx_;
  pid_t monitor_ = 0;
  std::mutex mu_;
  std::vector<std::string> steps_;
};

TEST_F(CreateDelete, CreateThenDeleteTearsDownInTheOneOrderAndLeavesNothing) {
  write_bundle();
  CreateOptions o;
  o.id = id_;
  o.bundle = bundle_;
  auto pid = create(ctx_, o);
  if (!pid && pid.error().code == Errc::Unsupported) GTEST_SKIP() << pid.error().what();
  ASSERT_TRUE(pid) << pid.error().what();
  EXPECT_EQ(*pid, monitor_);
  EXPECT_EQ(steps(), std::vector<std::string>{}) << "no teardown on success";
  auto st = state(ctx_, id_);
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->status, oci::ContainerStatus::Created);
  auto cgroups = cgroup_dirs();
  ASSERT_FALSE(cgroups.empty());
  for (const auto& d : cgroups) EXPECT_TRUE(fs::exists(d)) << d;
  auto paths = sandbox::sandbox_paths(root_, id_);
  ASSERT_TRUE(paths);
  EXPECT_TRUE(fs::exists(paths->dir));

  ASSERT_TRUE(remove(ctx_, id_, false)) << "delete of a created container";
  EXPECT_EQ(steps(),
            (std::vector<std::string>{"lift-cpu-quota", "end-monitor", "signal " + id_ + "/ 9 all",
                                      "remove-cgroup", "remove-leftovers"}));
  expect_no_state();
  expect_nothing_left(cgroups);
  std::cout << "state root on " << (tmpfs_ ? "a tmpfs" : "a temp dir (no tmpfs mount)") << "\n";
}

TEST_F(CreateDelete, CreateThatFailsAfterTheVmTearsDownInTheSameOrder) {
  write_bundle();
  CreateOptions o;
  o.id = id_;
  o.bundle = bundle_;
  o.pid_file = base_ + "/no/such/dir/pid";  // fails once the monitor reported Ready
  std::vector<std::string> cgroups;
  client_->on_call = nullptr;
  seams_.trace = [&](std::string_view step) {
    if (step == "lift-cpu-quota") cgroups = cgroup_dirs();
    note(std::string(step));
  };
  auto pid = create(ctx_, o);
  ASSERT_FALSE(pid);
  if (pid.error().code == Errc::Unsupported) GTEST_SKIP() << pid.error().what();
  EXPECT_NE(pid.error().what().find("--pid-file"), std::string::npos) << pid.error().what();
  EXPECT_EQ(steps(), (std::vector<std::string>{"lift-cpu-quota", "end-monitor", "remove-cgroup",
                                               "remove-leftovers"}));
  EXPECT_EQ(client_->calls(), std::vector<std::string>{})
      << "the monitor's to end, not the agent's";
  EXPECT_FALSE(cgroups.empty());
  expect_no_state();
  expect_nothing_left(cgroups);
}

TEST_F(CreateDelete, CreateThatFailsBeforeTheMonitorSkipsEndingIt) {
  // A prestart hook that fails: the monitor runs, the VM has not booted.
  write_bundle(R"("hooks": {"prestart": [{"path": "/bin/false"}]},)");
  CreateOptions o;
  o.id = id_;
  o.bundle = bundle_;
  auto pid = create(ctx_, o);
  ASSERT_FALSE(pid);
  if (pid.error().code == Errc::Unsupported) GTEST_SKIP() << pid.error().what();
  EXPECT_EQ(steps(), (std::vector<std::string>{"lift-cpu-quota", "end-monitor", "remove-cgroup",
                                               "remove-leftovers"}));
  expect_no_state();
  expect_nothing_left({});
}

TEST_F(CreateDelete, DeleteOfAStoppedContainerDoesNotCallTheAgent) {
  write_bundle();
  CreateOptions o;
  o.id = id_;
  o.bundle = bundle_;
  auto pid = create(ctx_, o);
  if (!pid && pid.error().code == Errc::Unsupported) GTEST_SKIP() << pid.error().what();
  ASSERT_TRUE(pid) << pid.error().what();
  auto cgroups = cgroup_dirs();
  // The monitor ends on its own (its process exited): stopped.
  ::kill(monitor_, SIGKILL);
  ASSERT_EQ(::waitpid(monitor_, nullptr, 0), monitor_);
  monitor_ = 0;
  ASSERT_EQ(state(ctx_, id_)->status, oci::ContainerStatus::Stopped);
  ASSERT_TRUE(remove(ctx_, id_, false));
  EXPECT_EQ(steps(), (std::vector<std::string>{"remove-cgroup", "remove-leftovers"}));
  EXPECT_EQ(client_->calls(), std::vector<std::string>{});
  expect_nothing_left(cgroups);
}

}  // namespace
}  // namespace hull::container
