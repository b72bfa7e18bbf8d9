// Real VMs (TCG on the build machines): start, talk to the agent, share a
// file, kill each host process in turn, many sandboxes at once and in a row.
// Every test runs in a private runtime root and checks that nothing is left
// behind: no mount, no process, no file.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/sandbox/boot_slots.h"
#include "sandbox_env.h"

namespace hull::sandbox {
namespace {

using namespace hull::sandbox::testing;
using namespace std::chrono_literals;

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!environment_ready(&why)) GTEST_SKIP() << why;
    root_ = make_root();
    ASSERT_FALSE(root_.empty());
  }
  void TearDown() override {
    if (root_.empty()) return;
    EXPECT_EQ(mounts_under(root_), std::vector<std::string>{});
    EXPECT_EQ(processes_mentioning(root_), std::vector<pid_t>{});
    EXPECT_EQ(our_children(), std::vector<pid_t>{});
    EXPECT_EQ(leftovers(root_), "");
    cleanup_root(root_);
  }

  std::unique_ptr<Sandbox> start(const std::string& id) {
    auto sb = Sandbox::start(options_for(root_, id));
    EXPECT_TRUE(sb) << sb.error().what();
    return sb ? std::move(*sb) : nullptr;
  }

  std::string root_;
};

TEST_F(SandboxTest, StartsAndReportsGuestDetails) {
  auto sb = start("details");
  ASSERT_TRUE(sb);
  auto d = sb->agent().guest_details();
  ASSERT_TRUE(d) << d.error().what();
  EXPECT_EQ(d->kernel_release().rfind("6.1", 0), 0u) << d->kernel_release();
  EXPECT_EQ(d->machine(), "x86_64");
  EXPECT_FALSE(d->agent_version().empty());
  EXPECT_GT(d->mem_total_kib(), 100u * 1024);
  EXPECT_LE(d->mem_total_kib(), 256u * 1024);
  EXPECT_EQ(d->online_cpus(), 1u);
  EXPECT_GT(d->agent_ready_boottime_ns(), 0u);
  EXPECT_LE(d->agent_start_boottime_ns(), d->agent_ready_boottime_ns());
  EXPECT_LE(d->agent_ready_boottime_ns(), d->now_boottime_ns());
  auto status = sb->qmp().query_status();
  ASSERT_TRUE(status) << status.error().what();
  EXPECT_EQ(*status, "running");
  EXPECT_GE(sb->guest_cid(), 3u);
  EXPECT_TRUE(sb->stop()) << "stop";
}

// "Key:\tvalue" of /proc/<pid>/status.
std::string status_field(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      auto v = line.substr(key.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "";
}

std::string ns_of(const std::string& proc, const std::string& ns) {
  char buf[64] = {};
  ssize_t n = ::readlink((proc + "/ns/" + ns).c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// One "Max ..." line of /proc/<pid>/limits: "soft hard".
std::string limit_of(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    std::istringstream f(line.substr(name.size()));
    std::string soft, hard;
    f >> soft >> hard;
    return soft + " " + hard;
  }
  return "";
}

// docs/security.md: what the jail (runtime/jail) gives each guest-facing process.
void expect_jailed(pid_t pid, const std::string& what) {
  SCOPED_TRACE(what + " pid " + std::to_string(pid));
  const std::string proc = "/proc/" + std::to_string(pid);
  std::istringstream uids(status_field(pid, "Uid"));
  std::string real, eff, saved, fsuid;
  uids >> real >> eff >> saved >> fsuid;
  EXPECT_NE(real, "0");
  EXPECT_NE(eff, "0");
  EXPECT_NE(saved, "0");
  EXPECT_EQ(real, std::to_string(::getpwnam("hull") ? ::getpwnam("hull")->pw_uid : 0u));
  EXPECT_NE(status_field(pid, "Gid").rfind("0\t", 0), 0u);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(status_field(pid, set), "0000000000000000") << set;
  }
  EXPECT_EQ(status_field(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(pid, "Seccomp"), "2");
  for (const char* ns : {"mnt", "ipc", "uts", "pid"}) {
    EXPECT_NE(ns_of(proc, ns), ns_of("/proc/self", ns)) << ns;
  }
  EXPECT_NE(::access((proc + "/root/etc/shadow").c_str(), F_OK), 0);
  EXPECT_NE(::access((proc + "/root/etc").c_str(), F_OK), 0);
  EXPECT_EQ(::access((proc + "/root/usr/bin").c_str(), F_OK), 0);
  EXPECT_EQ(limit_of(pid, "Max core file size"), "0 0");
  EXPECT_NE(limit_of(pid, "Max open files"), "");
  EXPECT_EQ(limit_of(pid, "Max processes"), "8192 8192");
  std::string env;
  std::ifstream(proc + "/environ") >> env;
  EXPECT_EQ(env.find("HULL"), std::string::npos) << env;
}

TEST_F(SandboxTest, QemuRunsJailed) {
  auto sb = start("jailed");
  ASSERT_TRUE(sb);
  expect_jailed(sb->qemu_pid(), "qemu");
  const std::string proc = "/proc/" + std::to_string(sb->qemu_pid());
  // No NIC: an empty network namespace of its own (with NICs: the container's).
  EXPECT_NE(ns_of(proc, "net"), ns_of("/proc/self", "net"));
  EXPECT_EQ(::access((proc + "/root/boot/vmlinux").c_str(), R_OK), 0);
  EXPECT_EQ(::access((proc + "/root/dev/kvm").c_str(), F_OK) == 0,
            sb->accel() == config::Accel::Kvm);
  // QEMU's file size limit leaves room for the guest RAM (its memfd).
  EXPECT_EQ(limit_of(sb->qemu_pid(), "Max file size"),
            std::to_string((256ull << 20) + (64ull << 20)) + " " +
                std::to_string((256ull << 20) + (64ull << 20)));
  // On the host the jail directory is only an empty mount point.
  EXPECT_EQ(leftovers(sb->paths().jail_dir), "");
  auto status = sb->qmp().query_status();
  ASSERT_TRUE(status) << status.error().what();
  EXPECT_EQ(*status, "running");
  EXPECT_TRUE(sb->stop());
}

TEST_F(SandboxTest, HullVsockRunsJailed) {
  auto sb = start("vsockjail");
  ASSERT_TRUE(sb);
  expect_jailed(sb->vsock_pid(), "hull-vsock");
  const std::string proc = "/proc/" + std::to_string(sb->vsock_pid());
  EXPECT_NE(ns_of(proc, "net"), ns_of("/proc/self", "net"));
  // Its root holds the one directory it serves, and none of the sandbox's other files.
  EXPECT_EQ(::access((proc + "/root" + sb->paths().vsock_dir).c_str(), F_OK), 0);
  EXPECT_NE(::access((proc + "/root" + sb->paths().qmp_socket).c_str(), F_OK), 0);
  EXPECT_NE(::access((proc + "/root" + sb->paths().shared_dir).c_str(), F_OK), 0);
  EXPECT_EQ(limit_of(sb->vsock_pid(), "Max file size"), "0 0");
  // The agent still answers through it.
  auto d = sb->agent().guest_details();
  ASSERT_TRUE(d) << d.error().what();
  EXPECT_TRUE(sb->stop());
}

TEST_F(SandboxTest, GuestReadsAFileFromShared) {
  auto sb = start("shared");
  ASSERT_TRUE(sb);
  {
    std::ofstream f(sb->paths().shared_dir + "/hello.txt");
    f << "hello from the host\n";
  }
  auto r = sb->agent().read_shared_file("hello.txt", 4096);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->data(), "hello from the host\n");
  EXPECT_EQ(r->size(), 20u);

  auto escape = sb->agent().read_shared_file("../etc/passwd", 4096);
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().code, Errc::Invalid) << escape.error().what();
  auto missing = sb->agent().read_shared_file("nope.txt", 4096);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound) << missing.error().what();
  EXPECT_TRUE(sb->stop());
}

TEST_F(SandboxTest, StartFailureNamesTheStepAndCarriesLogs) {
  auto o = options_for(root_, "badkernel");
  o.config.vm.kernel = root_ + "/no-such-vmlinux";
  auto sb = Sandbox::start(o);
  ASSERT_FALSE(sb);
  const std::string msg = sb.error().what();
  EXPECT_NE(msg.find("sandbox badkernel: agent: qemu exited with status 1"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("no-such-vmlinux"), std::string::npos) << msg;  // from QEMU's stderr
}

TEST_F(SandboxTest, StartFailsCleanlyWhenHullVsockIsMissing) {
  auto o = options_for(root_, "novsock");
  o.hull_vsock_path = root_ + "/no-such-hull-vsock";
  auto sb = Sandbox::start(o);
  ASSERT_FALSE(sb);
  EXPECT_NE(sb.error().what().find("sandbox novsock: hull-vsock"), std::string::npos)
      << sb.error().what();
  EXPECT_EQ(sb.error().code, Errc::NotFound);
}

// A runtime root that others may write is refused before the boot slots are touched: a
// boot-slots symlink planted there must not make start() lock and unlink files elsewhere.
TEST_F(SandboxTest, ForeignRootIsRefusedBeforeTheBootSlots) {
  const std::string target = root_ + ".elsewhere";
  ASSERT_EQ(::mkdir(target.c_str(), 0700), 0);
  std::vector<std::string> planted;
  for (unsigned i = 0; i < boot_slot_count(); ++i) {
    planted.push_back(target + "/" + std::to_string(i));
    std::ofstream(planted.back()) << "not hull's\n";
  }
  ASSERT_EQ(::symlink(target.c_str(), (root_ + "/boot-slots").c_str()), 0);
  ASSERT_EQ(::chmod(root_.c_str(), 0777), 0);
  auto sb = Sandbox::start(options_for(root_, "foreign"));
  ASSERT_EQ(::chmod(root_.c_str(), 0700), 0);
  ASSERT_FALSE(sb);
  EXPECT_EQ(sb.error().code, Errc::InvalidState) << sb.error().what();
  EXPECT_NE(sb.error().what().find("sandbox foreign: runtime root"), std::string::npos)
      << sb.error().what();
  for (const auto& f : planted) {
    struct stat st {};
    EXPECT_EQ(::stat(f.c_str(), &st), 0) << f << " was removed";
    ::unlink(f.c_str());
  }
  ::unlink((root_ + "/boot-slots").c_str());
  ::rmdir(target.c_str());
}

enum class Victim { Qemu, Virtiofsd, Vsock };

class SandboxKillTest : public SandboxTest, public ::testing::WithParamInterface<Victim> {};

TEST_P(SandboxKillTest, StopLeavesNothingAfterAProcessWasKilled) {
  auto sb = start("kill");
  ASSERT_TRUE(sb);
  pid_t victim = 0;
  switch (GetParam()) {
    case Victim::Qemu:
      victim = sb->qemu_pid();
      break;
    case Victim::Virtiofsd:
      victim = sb->virtiofsd_pid();
      break;
    case Victim::Vsock:
      victim = sb->vsock_pid();
      break;
  }
  ASSERT_GT(victim, 0);
  EXPECT_TRUE(sb->check_processes());
  ASSERT_EQ(::kill(victim, SIGKILL), 0);  // our own child, by pid
  std::this_thread::sleep_for(200ms);
  // Supervision notices (QEMU may also have ended by then, after its backend died).
  auto alive = sb->check_processes();
  ASSERT_FALSE(alive);
  EXPECT_EQ(alive.error().code, Errc::NotRunning);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(sb->stop());
  // The agent may be unreachable: stop must not wait for long anyway.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
}

INSTANTIATE_TEST_SUITE_P(EachProcess, SandboxKillTest,
                         ::testing::Values(Victim::Qemu, Victim::Virtiofsd, Victim::Vsock),
                         [](const auto& info) {
                           switch (info.param) {
                             case Victim::Qemu:
                               return std::string("qemu");
                             case Victim::Virtiofsd:
                               return std::string("virtiofsd");
                             case Victim::Vsock:
                               return std::string("hull_vsock");
                           }
                           return std::string("unknown");
                         });

TEST_F(SandboxTest, StopWithoutAgentAnswerStillCleansUp) {
  // The agent listens on another port, so nothing answers on 1024 while the
  // VM, hull-vsock and virtiofsd all run: agent_timeout passes, start() fails.
  // The console tail in the error shows the agent up (on 1025) once the
  // guest got that far in agent_timeout: about 1.5 s of TCG boot on an idle
  // machine, several times that on a loaded one. An attempt whose console
  // is still earlier in the boot is tried again with twice the time; every
  // attempt must time out and leave nothing behind.
  auto o = options_for(root_, "noagent");
  o.config.vm.kernel_params = "hull.port=1025";
  std::string last;
  for (o.agent_timeout = 3000ms; o.agent_timeout <= 24000ms; o.agent_timeout *= 2) {
    auto sb = Sandbox::start(o);
    ASSERT_FALSE(sb);
    last = sb.error().what();
    ASSERT_EQ(sb.error().code, Errc::Timeout) << last;
    EXPECT_EQ(leftovers(root_), "") << "after a " << o.agent_timeout.count() << " ms attempt";
    if (last.find("hull-agent ready") != std::string::npos) break;
  }
  EXPECT_NE(last.find("hull-agent ready"), std::string::npos) << last;  // console tail
}

TEST_F(SandboxTest, GuestThatDiesIsReportedWithItsConsole) {
  auto o = options_for(root_, "panic");
  o.config.vm.kernel_params = "rdinit=/no-such-init";
  auto sb = Sandbox::start(o);
  ASSERT_FALSE(sb);
  EXPECT_EQ(sb.error().code, Errc::NotRunning) << sb.error().what();
  EXPECT_NE(sb.error().what().find("Kernel panic"), std::string::npos) << sb.error().what();
}

TEST_F(SandboxTest, EightInParallel) {
  constexpr int kCount = 8;
  std::vector<std::unique_ptr<Sandbox>> boxes(kCount);
  std::vector<std::string> errors(kCount);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCount; ++i) {
    threads.emplace_back([&, i] {
      auto o = options_for(root_, "par" + std::to_string(i));
      // Eight boots on a 2-core TCG host each take longer than 2 s: the start waits
      // while the VM makes progress (a fixed 2 s deadline failed them).
      o.agent_timeout = 2000ms;
      auto sb = Sandbox::start(o);
      if (sb) {
        boxes[i] = std::move(*sb);
      } else {
        errors[i] = sb.error().what();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint32_t> cids;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(boxes[i]) << "sandbox " << i << ": " << errors[i];
    EXPECT_TRUE(boxes[i]->agent().health());
    cids.insert(boxes[i]->guest_cid());
  }
  EXPECT_EQ(cids.size(), static_cast<size_t>(kCount));
  threads.clear();
  std::vector<int> stop_ok(kCount, 0);
  for (int i = 0; i < kCount; ++i) {
    threads.emplace_back([&, i] { stop_ok[i] = boxes[i]->stop() ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kCount; ++i) EXPECT_TRUE(stop_ok[i]) << "sandbox " << i;
  boxes.clear();
}

TEST_F(SandboxTest, FiftyBootsInARowAllReachTheAgent) {
  constexpr int kBoots = 50;
  constexpr int kLanes = 2;  // two at a time on the 2-core build machines
  std::atomic<int> next{0}, ok{0};
  std::vector<std::string> failures;
  std::mutex mu;
  std::vector<std::thread> lanes;
  for (int l = 0; l < kLanes; ++l) {
    lanes.emplace_back([&] {
      for (int i = next++; i < kBoots; i = next++) {
        auto o = options_for(root_, "seq" + std::to_string(i));
        o.agent_timeout = 20000ms;  // a hung boot shows up as a timeout
        auto sb = Sandbox::start(o);
        if (!sb) {
          std::lock_guard lock(mu);
          failures.push_back("boot " + std::to_string(i) + ": " + sb.error().what());
          continue;
        }
        if ((*sb)->stop()) ++ok;
      }
    });
  }
  for (auto& t : lanes) t.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(ok.load(), kBoots);
}

}  // namespace
}  // namespace hull::sandbox
