// Boots the built guest image (kernel + initrd with hull-agent as /init) in QEMU microvm.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/spawn.h"
#include "common/unique_fd.h"
#include "qemu_harness.h"

namespace hull::boot_test {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr milliseconds kReadyTimeout{15000};
constexpr milliseconds kExitTimeout{15000};
constexpr int kBootsInARow = 20;
constexpr int kParallelBoots = 2;

class BootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto image = find_guest_image(std::string(HULL_BINARY_DIR) + "/guest");
    ASSERT_TRUE(image) << image.error().what();
    image_ = *image;
  }
  GuestImage image_;
};

BootOptions cmdline(std::string extra) {
  BootOptions o;
  o.extra_cmdline = std::move(extra);
  return o;
}

std::string exit_text(std::optional<int> status) {
  if (!status) return "still running";
  if (WIFEXITED(*status)) return "exit status " + std::to_string(WEXITSTATUS(*status));
  if (WIFSIGNALED(*status)) return "killed by signal " + std::to_string(WTERMSIG(*status));
  return "wait status " + std::to_string(*status);
}

TEST_F(BootTest, ReadyLineThenPowerOffEndsQemuWithStatusZero) {
  auto guest = Guest::start(image_, cmdline("hull.test=poweroff"));
  ASSERT_TRUE(guest) << guest.error().what();
  auto ready = guest->wait_ready(kReadyTimeout);
  ASSERT_TRUE(ready) << ready.error().what();
  auto status = guest->wait_exit(kExitTimeout);
  ASSERT_TRUE(status.has_value()) << "QEMU did not exit after hull.test=poweroff; console:\n"
                                  << guest->console();
  EXPECT_EQ(exit_text(status), "exit status 0") << guest->console() << guest->qemu_log();
  std::string console = guest->console();
  EXPECT_THAT(console,
              ::testing::ContainsRegex("\nhull-agent ready [0-9]+\\.[0-9][0-9][0-9]\r?\n"));
  EXPECT_THAT(console, HasSubstr("powering off: hull.test=poweroff"));
  EXPECT_THAT(console, Not(HasSubstr("Kernel panic")));
  std::printf("QEMU start to ready line: %.3f s\n", *ready);
}

// The console as hull's sandboxes pass it (runtime/vm/qemu_cmdline.cc): a pipe in an fd set,
// append=on. When its reader goes away mid-boot, QEMU neither dies (it ignores SIGPIPE) nor
// blocks (it made the pipe O_NONBLOCK): the guest boots on, its console's bytes dropped,
// and powers off as asked, so QEMU ends with status 0.
TEST_F(BootTest, ConsoleReaderGoneMidBootDoesNotStopTheVm) {
  auto argv = qemu_argv(image_, cmdline("hull.test=poweroff loglevel=7"), "/dev/null");
  ASSERT_TRUE(argv) << argv.error().what();
  auto serial = std::find(argv->begin(), argv->end(), "-serial");
  ASSERT_NE(serial, argv->end());
  *(serial + 1) = "chardev:console";
  argv->insert(argv->end(), {"-add-fd", "fd=3,set=1", "-chardev",
                             "file,id=console,path=/dev/fdset/1,append=on"});
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd reader(p[0]), writer(p[1]);
  SpawnOptions o;
  auto path = find_program((*argv)[0]);
  ASSERT_TRUE(path) << path.error().what();
  o.path = *path;
  o.argv = *argv;
  UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  o.fds = {{null.get(), 1}, {null.get(), 2}, {writer.get(), 3}};
  o.group = ProcessGroup::Inherit;
  auto qemu = spawn("qemu", o);
  ASSERT_TRUE(qemu) << qemu.error().what();
  writer.reset();
  std::string seen;
  char buf[512];
  while (seen.size() < 512) {
    ssize_t n = ::read(reader.get(), buf, sizeof buf);
    ASSERT_GT(n, 0) << "the console ended after " << seen.size() << " bytes";
    seen.append(buf, static_cast<size_t>(n));
  }
  reader.reset();  // the reader is gone; the kernel and the agent go on writing
  auto st = qemu->wait_for(kReadyTimeout + kExitTimeout);
  ASSERT_TRUE(st) << "QEMU still runs " << (kReadyTimeout + kExitTimeout).count()
                  << " ms after its console reader went away: " << st.error().what();
  EXPECT_EQ(st->describe(), "exited with status 0") << seen;
}

TEST_F(BootTest, WithoutARequestTheAgentKeepsServing) {
  auto guest = Guest::start(image_, {});
  ASSERT_TRUE(guest) << guest.error().what();
  auto ready = guest->wait_ready(kReadyTimeout);
  ASSERT_TRUE(ready) << ready.error().what();
  auto status = guest->wait_exit(milliseconds(1500));
  EXPECT_FALSE(status.has_value())
      << "the guest ended by itself (" << exit_text(status) << "); console:\n"
      << guest->console();
  // The Guest's destructor kills and reaps QEMU.
}

TEST_F(BootTest, FatalErrorIsLoggedAndPowersOff) {
  auto guest = Guest::start(image_, cmdline("hull.log=verbose"));
  ASSERT_TRUE(guest) << guest.error().what();
  auto status = guest->wait_exit(kExitTimeout);
  ASSERT_TRUE(status.has_value()) << "the agent hung after a fatal error; console:\n"
                                  << guest->console();
  EXPECT_EQ(exit_text(status), "exit status 0");
  std::string console = guest->console();
  EXPECT_THAT(console,
              HasSubstr("fatal: kernel command line: hull.log=verbose: expected debug, info, "
                        "warn or error"));
  EXPECT_THAT(console, HasSubstr("powering off: fatal error"));
  EXPECT_THAT(console, Not(HasSubstr("hull-agent ready")));
  EXPECT_THAT(console, Not(HasSubstr("Kernel panic")));
}

// Each kernel option added for containers and density, seen working in the guest.
TEST_F(BootTest, KernelFeaturesSeenAtBoot) {
  auto guest =
      Guest::start(image_, {.extra_cmdline = "hull.log=debug hull.test=poweroff hull.future=1",
                            .extra_args = {"-device", "virtio-rng-device", "-device",
                                           "virtio-balloon-device,free-page-reporting=on"}});
  ASSERT_TRUE(guest) << guest.error().what();
  auto ready = guest->wait_ready(kReadyTimeout);
  ASSERT_TRUE(ready) << ready.error().what();
  auto status = guest->wait_exit(kExitTimeout);
  EXPECT_EQ(exit_text(status), "exit status 0");
  std::string console = guest->console();
  // cpuset (CONFIG_CPUSETS), io (BLK_CGROUP), hugetlb (CGROUP_HUGETLB) next to the measured set.
  EXPECT_THAT(console, HasSubstr("cgroup controllers enabled for children: cpuset cpu io memory "
                                 "hugetlb pids"));
  EXPECT_THAT(console, HasSubstr("kernel features: cgroup=cpuset,cpu,io,memory,hugetlb,pids "
                                 "bpf=1 cgroup_bpf=1 psi=1 keys=1 checkpoint_restore=1 "
                                 "hugetlbfs=1 overlay=1 virtiofs=1 page_reporting=1 "
                                 "virtio_rng=1 virtio_balloon=1 "));
  EXPECT_THAT(console, HasSubstr(" rng=virtio_rng.0"));
  // AF_PACKET, IPv6 and policy routing (guest.config), the virtio-net driver (no NIC here).
  EXPECT_THAT(console, HasSubstr(" packet=1 ipv6=1 policy_routing=1 virtio_net=0"));
  EXPECT_THAT(console, HasSubstr("ignoring unknown parameter hull.future=1"));
}

struct BootResult {
  bool ok = false;
  double seconds = 0;
  std::string failure;
};

BootResult boot_once(const GuestImage& image) {
  BootResult r;
  auto guest = Guest::start(image, cmdline("hull.test=poweroff"));
  if (!guest) {
    r.failure = guest.error().what();
    return r;
  }
  auto ready = guest->wait_ready(kReadyTimeout);
  if (!ready) {
    r.failure = ready.error().what();
    return r;
  }
  auto status = guest->wait_exit(kExitTimeout);
  if (exit_text(status) != "exit status 0") {
    r.failure =
        "QEMU " + exit_text(status) + " after the ready line; console:\n" + guest->console();
    return r;
  }
  r.ok = true;
  r.seconds = *ready;
  return r;
}

TEST_F(BootTest, TwentyBootsInARowWithoutAHang) {
  std::vector<BootResult> results(kBootsInARow);
  std::vector<std::thread> workers;
  for (int w = 0; w < kParallelBoots; ++w) {
    workers.emplace_back([&, w] {
      for (int i = w; i < kBootsInARow; i += kParallelBoots) results[i] = boot_once(image_);
    });
  }
  for (auto& t : workers) t.join();
  std::vector<double> times;
  for (int i = 0; i < kBootsInARow; ++i) {
    EXPECT_TRUE(results[i].ok) << "boot " << i << ": " << results[i].failure;
    if (results[i].ok) times.push_back(results[i].seconds);
  }
  std::sort(times.begin(), times.end());
  if (!times.empty()) {
    std::printf("%zu/%d boots ready (%d in parallel): min %.3f s, median %.3f s, max %.3f s\n",
                times.size(), kBootsInARow, kParallelBoots, times.front(), times[times.size() / 2],
                times.back());
  }
}

}  // namespace
}  // namespace hull::boot_test
