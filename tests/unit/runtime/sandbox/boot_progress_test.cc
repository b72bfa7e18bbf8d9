#include "runtime/sandbox/boot_progress.h"
#include "runtime/sandbox/log_ring.h"
#include "runtime/sandbox/sandbox.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace hull::sandbox {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kNsPerMs = 1'000'000;

// Samples every 500 ms of a VM whose threads want `demand` of a CPU (0..1), from t0.
struct Vm {
  Clock::time_point t0 = Clock::time_point() + 1h;
  Clock::time_point now = t0;
  uint64_t cpu_ns = 0;
  uint64_t console = 0;
  BootSample step(double demand, std::chrono::milliseconds dt = 500ms) {
    now += dt;
    cpu_ns += static_cast<uint64_t>(demand * static_cast<double>(dt.count()) * kNsPerMs);
    return {.at = now, .cpu_demand_ns = cpu_ns, .console = console};
  }
};

const BootWaitPolicy kPolicy{.stall = 30000ms, .cap = 300000ms};

// Overload: a booting guest that gets a CPU 5% of the time is still runnable the rest
// of it; it keeps waiting for as long as it boots, past the old 30 s deadline.
TEST(BootWatch, StarvedButRunnableGuestKeepsWaiting) {
  Vm vm;
  BootWatch w(kPolicy, vm.t0);
  for (int i = 0; i < 240; ++i) {  // 120 s
    ASSERT_EQ(w.observe(vm.step(0.95)), BootVerdict::Wait) << i;
  }
}

// A guest that idles without answering (the agent hung, or listens elsewhere) fails
// after the stall window, counted from its last progress.
TEST(BootWatch, IdleGuestStallsAfterTheWindow) {
  Vm vm;
  BootWatch w(kPolicy, vm.t0);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(w.observe(vm.step(1.0)), BootVerdict::Wait);  // 5 s boot
  const auto booted = vm.now;
  BootVerdict v = BootVerdict::Wait;
  while (v == BootVerdict::Wait) v = w.observe(vm.step(0.03));
  EXPECT_EQ(v, BootVerdict::Stalled);
  EXPECT_GE(vm.now - booted, 30000ms);
  EXPECT_LE(vm.now - booted, 31000ms);
  EXPECT_NE(w.describe(v).find(
                "no progress for 30000 ms (QEMU and its backends ran or waited for a CPU 3% of"),
            std::string::npos)
      << w.describe(v);
}

// Never any progress: the stall window from QEMU's start, as the fixed deadline was.
TEST(BootWatch, NoProgressAtAllFailsAtTheStallWindow) {
  Vm vm;
  BootWatch w(kPolicy, vm.t0);
  BootVerdict v = BootVerdict::Wait;
  while (v == BootVerdict::Wait) v = w.observe(vm.step(0.0));
  EXPECT_EQ(v, BootVerdict::Stalled);
  EXPECT_EQ(vm.now - vm.t0, 30000ms);
}

// Console output is progress even while QEMU's CPU use cannot be read.
TEST(BootWatch, ConsoleOutputIsProgress) {
  Vm vm;
  BootWatch w(kPolicy, vm.t0);
  for (int i = 0; i < 200; ++i) {
    vm.console += 10;
    auto s = vm.step(0.0);
    s.cpu_demand_ns.reset();
    ASSERT_EQ(w.observe(s), BootVerdict::Wait) << i;
  }
  auto s = vm.step(0.0);
  s.cpu_demand_ns.reset();
  EXPECT_EQ(w.observe(s), BootVerdict::Wait);
  BootVerdict v = BootVerdict::Wait;
  while (v == BootVerdict::Wait) {
    s = vm.step(0.0);
    s.cpu_demand_ns.reset();
    v = w.observe(s);
  }
  EXPECT_EQ(v, BootVerdict::Stalled);
  EXPECT_NE(w.describe(v).find("the VM's CPU use unknown"), std::string::npos) << w.describe(v);
}

// A guest that spins forever (busy but never ready) ends at the cap.
TEST(BootWatch, BusyForeverEndsAtTheCap) {
  Vm vm;
  BootWatch w(kPolicy, vm.t0);
  BootVerdict v = BootVerdict::Wait;
  while (v == BootVerdict::Wait) v = w.observe(vm.step(1.0));
  EXPECT_EQ(v, BootVerdict::CapReached);
  EXPECT_EQ(vm.now - vm.t0, 300000ms);
  EXPECT_NE(w.describe(v).find("vm.start_timeout_s"), std::string::npos);
}

// The demand is taken over at least kDemandWindow: many quick samples (the connect loop
// can spin) neither hide a booting guest nor make an idle one look busy.
TEST(BootWatch, DemandIsMeasuredOverAWindowNotPerSample) {
  Vm vm;
  BootWatch w(kPolicy, vm.t0);
  for (int i = 0; i < 4000; ++i) {  // 40 s in 10 ms steps
    ASSERT_EQ(w.observe(vm.step(0.6, 10ms)), BootVerdict::Wait) << i;
  }
  BootVerdict v = BootVerdict::Wait;
  while (v == BootVerdict::Wait) v = w.observe(vm.step(0.1, 10ms));
  EXPECT_EQ(v, BootVerdict::Stalled);
}

// Demand just under and at the threshold.
TEST(BootWatch, ThresholdIsMinDemand) {
  Vm a;
  BootWatch wa(kPolicy, a.t0);
  BootVerdict v = BootVerdict::Wait;
  while (v == BootVerdict::Wait) v = wa.observe(a.step(kMinDemand * 0.9));
  EXPECT_EQ(v, BootVerdict::Stalled);
  Vm b;
  BootWatch wb(kPolicy, b.t0);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(wb.observe(b.step(kMinDemand + 0.01)), BootVerdict::Wait);
}

TEST(Schedstat, ParsesTheSumOfRunAndWait) {
  EXPECT_EQ(parse_schedstat_demand("1652284 51586 2\n"), 1652284u + 51586u);
  EXPECT_EQ(parse_schedstat_demand("0 0 0"), 0u);
}

TEST(Schedstat, RejectsMalformedLines) {
  EXPECT_EQ(parse_schedstat_demand(""), std::nullopt);
  EXPECT_EQ(parse_schedstat_demand("12 34\n"), std::nullopt);
  EXPECT_EQ(parse_schedstat_demand("12 x 3\n"), std::nullopt);
  EXPECT_EQ(parse_schedstat_demand("-1 2 3\n"), std::nullopt);
  EXPECT_EQ(parse_schedstat_demand("1 2 3 4\n"), std::nullopt);
  EXPECT_EQ(parse_schedstat_demand("18446744073709551615 1 1\n"), std::nullopt);
  EXPECT_EQ(parse_schedstat_demand("99999999999999999999 1 1\n"), std::nullopt);
}

TEST(Schedstat, ReadsThisProcess) {
  auto a = read_cpu_demand_ns(::getpid());
  ASSERT_TRUE(a);
  // The kernel adds a running thread's time to its schedstat at a tick or a switch, not
  // when the file is read: spin for several ticks, then yield to bring the sum up to date.
  volatile uint64_t x = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  while (std::chrono::steady_clock::now() < until) x = x + 1;
  ::sched_yield();
  auto b = read_cpu_demand_ns(::getpid());
  ASSERT_TRUE(b);
  EXPECT_GT(*b, *a);
  EXPECT_EQ(read_cpu_demand_ns(0), std::nullopt);
  const pid_t pids[] = {::getpid(), 0};  // an unreadable pid adds nothing
  auto s = sample_boot(pids, {}, false);
  ASSERT_TRUE(s.cpu_demand_ns);
  EXPECT_GE(*s.cpu_demand_ns, *b);
  EXPECT_EQ(s.console, 0u);
  EXPECT_FALSE(s.agent_ready);
}

TEST(ThreadStat, ParsesNameAndStateOfOneThread) {
  auto t = parse_thread_stat("4242 (CPU 0/TCG) S 1 4242 4242 0 -1 4194560 0 0\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->comm, "CPU 0/TCG");
  EXPECT_EQ(t->state, 'S');
  // a name with ") " in it: the last one ends the name
  t = parse_thread_stat("7 (a) b) D 1 7");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->comm, "a) b");
  EXPECT_EQ(t->state, 'D');
  EXPECT_EQ(parse_thread_stat(""), std::nullopt);
  EXPECT_EQ(parse_thread_stat("7 (x)"), std::nullopt);
  EXPECT_EQ(parse_thread_stat("7 x) S 1"), std::nullopt);
  EXPECT_EQ(parse_thread_stat("7 (x) "), std::nullopt);
  EXPECT_EQ(parse_thread_stat("7 (x) 1 2"), std::nullopt);
}

TEST(ThreadStat, DescribesEveryThreadOfThisProcess) {
  std::string d = describe_threads(::getpid());
  EXPECT_NE(d.find(" R "), std::string::npos) << d;  // this thread runs
  EXPECT_EQ(describe_threads(0), "gone");
}

// The console's marker counts the bytes the guest wrote (through the log pump, as
// Sandbox::start samples it) and the ready line is found in the stream.
TEST(ConsoleProgress, MarkerIsTheBytesWrittenAndTheReadyLineIsFound) {
  char dir[] = "/tmp/hull-console.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string log = std::string(dir) + "/console.log";
  auto pump =
      LogPump::start({{.path = log, .cap_bytes = 4096, .marker = std::string(kAgentReadyLine)}});
  ASSERT_TRUE(pump) << pump.error().what();
  UniqueFd w = (*pump)->take_writer(0);
  auto progress = [&] {
    (*pump)->drain();
    return ConsoleProgress{.marker = (*pump)->bytes(0), .agent_ready = (*pump)->marker_seen(0)};
  };
  EXPECT_EQ(progress().marker, 0u);
  const std::string boot = "[    0.1] PCI: Fatal: No config space access function found\n";
  ASSERT_EQ(::write(w.get(), boot.data(), boot.size()), static_cast<ssize_t>(boot.size()));
  auto a = progress();
  EXPECT_EQ(a.marker, boot.size());
  EXPECT_FALSE(a.agent_ready);
  const std::string ready = "hull-agent ready 12.005\n";
  ASSERT_EQ(::write(w.get(), ready.data(), ready.size()), static_cast<ssize_t>(ready.size()));
  EXPECT_TRUE(progress().agent_ready);
  EXPECT_EQ(progress().marker, boot.size() + ready.size());
  // More than the cap: the files rotate, the marker keeps growing.
  const std::string more(3000, 'x');
  for (int i = 0; i < 4; ++i) ASSERT_EQ(::write(w.get(), more.data(), more.size()), 3000);
  EXPECT_EQ(progress().marker, boot.size() + ready.size() + 12000);
  EXPECT_TRUE(progress().agent_ready);
  w.reset();
  (*pump)->stop();
  std::filesystem::remove_all(dir);
}

// Sandbox::start connects when the ready line shows: wait_marker() returns as soon as the
// pump has read it, not at the end of its timeout.
TEST(ConsoleProgress, WaitMarkerWakesWhenTheReadyLineArrives) {
  char dir[] = "/tmp/hull-console.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  auto pump = LogPump::start({{.path = std::string(dir) + "/console.log",
                               .cap_bytes = 4096,
                               .marker = std::string(kAgentReadyLine)}});
  ASSERT_TRUE(pump) << pump.error().what();
  UniqueFd w = (*pump)->take_writer(0);
  EXPECT_FALSE((*pump)->wait_marker(0, std::chrono::milliseconds(20)));
  std::thread writer([fd = w.get()] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string ready = "hull-agent ready 0.600\n";
    (void)!::write(fd, ready.data(), ready.size());
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE((*pump)->wait_marker(0, std::chrono::seconds(30)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  writer.join();
  EXPECT_TRUE((*pump)->wait_marker(0, std::chrono::milliseconds(0)));
  w.reset();
  (*pump)->stop();
  std::filesystem::remove_all(dir);
}

// The monitor's debug lines: milliseconds from the start (or the stop) to each point,
// "-" for a point not reached.
TEST(SandboxTimings, DescribeGivesEachPointInMilliseconds) {
  const auto t0 = std::chrono::steady_clock::now();
  StartTimings s;
  s.begin = t0;
  s.qemu_exec = t0 + std::chrono::milliseconds(28);
  s.agent_connected = t0 + std::chrono::milliseconds(1440);
  s.agent_healthy = s.end = t0 + std::chrono::milliseconds(1540);
  EXPECT_EQ(describe(s),
            "1540 ms (QEMU exec at 28, ready line -, connected 1440, Health answered 1540)");
  StopTimings p;
  p.begin = t0;
  p.qemu_ended = t0 + std::chrono::milliseconds(29);
  p.end = t0 + std::chrono::milliseconds(35);
  EXPECT_EQ(describe(p), "35 ms (DestroySandbox answered at -, QEMU ended 29)");
}

// After the ready line, CPU use is no progress: an idle guest's ticks on a loaded host
// (each waiting for a CPU) must not keep a start waiting for an agent that never answers.
TEST(BootWatch, AfterTheReadyLineOnlyTheStallWindowIsLeft) {
  Vm vm;
  BootWatch w(kPolicy, vm.t0);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(w.observe(vm.step(1.0)), BootVerdict::Wait);
  vm.console += 24;
  auto s = vm.step(1.0);
  s.agent_ready = true;
  ASSERT_EQ(w.observe(s), BootVerdict::Wait);
  EXPECT_TRUE(w.agent_ready_seen());
  const auto ready = vm.now;
  BootVerdict v = BootVerdict::Wait;
  while (v == BootVerdict::Wait) {
    s = vm.step(0.9);  // busy-looking: ticks waiting for a CPU
    s.agent_ready = true;
    v = w.observe(s);
  }
  EXPECT_EQ(v, BootVerdict::Stalled);
  EXPECT_EQ(vm.now - ready, 30000ms);
  EXPECT_NE(w.describe(v).find("printed its ready line but did not answer within 30000 ms"),
            std::string::npos)
      << w.describe(v);
}

}  // namespace
}  // namespace hull::sandbox
