// Boot progress: whether a sandbox start keeps waiting for the guest's agent.
//
// A fixed deadline fails guests that are still booting on a busy host (50 VMs on 2 cores
// reach the agent after 20-60 s under TCG). Sandbox::start instead samples the VM while it
// waits and fails only when the VM has shown no progress for a stall window, or when an
// overall cap has passed:
//
//   progress = the console grew, or (until the agent's ready line is on the console)
//              the VM's threads (QEMU, virtiofsd, hull-vsock) wanted a CPU for at least kMinDemand
//              of the wall time since the previous reference sample (time on a CPU + time runnable
//              but waiting for one, from the host's /proc/<pid>/task/*/schedstat), measured over at
//              least kDemandWindow.
//
// A booting guest's vCPU is always running or runnable (demand ~1 per vCPU) however
// starved it is; a guest that idles without ever answering (an agent that hangs) wants
// a few percent at most. Once the agent has printed "hull-agent ready" the boot is over:
// CPU use no longer counts (an idle guest's timer ticks each wait for a CPU on a loaded
// host and add up to real demand), and the agent must answer within the stall window.
// BootWatch is pure: the caller takes the samples (sample_boot) and feeds them in.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hull::sandbox {

// Share of the wall time QEMU's threads must have been running or runnable for a
// window to count as progress. Booting: ~1; idle (periodic ticks): ~0.03.
inline constexpr double kMinDemand = 0.25;
// The shortest window the demand is computed over (shorter samples are too noisy).
inline constexpr std::chrono::milliseconds kDemandWindow{1000};

struct BootSample {
  std::chrono::steady_clock::time_point at;
  // Sum over QEMU's threads of the time on a CPU and the time runnable on a run queue
  // (nanoseconds); nullopt when it could not be read.
  std::optional<uint64_t> cpu_demand_ns;
  // The console marker (console_progress): grows when the guest writes to its console.
  uint64_t console = 0;
  // The console shows the agent's "hull-agent ready" line.
  bool agent_ready = false;
};

struct BootWaitPolicy {
  std::chrono::milliseconds stall{30000};  // no progress for this long: fail
  std::chrono::milliseconds cap{300000};   // waited this long in all: fail
};

enum class BootVerdict { Wait, Stalled, CapReached };

class BootWatch {
 public:
  BootWatch(BootWaitPolicy policy, std::chrono::steady_clock::time_point start);

  // Takes one sample (in time order) and says whether to keep waiting.
  BootVerdict observe(const BootSample& s);

  std::chrono::steady_clock::time_point last_progress() const { return last_progress_; }
  bool agent_ready_seen() const { return ready_at_.has_value(); }
  // "the VM showed no progress for 30000 ms (QEMU wanted a CPU 2% of the time, console
  // quiet)" or "the VM kept booting but 300000 ms passed", for the error message.
  std::string describe(BootVerdict v) const;

 private:
  BootWaitPolicy policy_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_progress_;
  std::optional<BootSample> ref_;  // the start of the current demand window
  std::optional<std::chrono::steady_clock::time_point> ready_at_;  // ready line first seen
  uint64_t console_ = 0;
  double last_demand_ = -1;  // of the last complete window; < 0: none yet
};

// The sum of fields 1 (time on a CPU) and 2 (time waiting on a run queue), in ns, of one
// /proc/<pid>/task/<tid>/schedstat line ("123 456 7\n"); nullopt if malformed.
std::optional<uint64_t> parse_schedstat_demand(std::string_view text);

// The sum of parse_schedstat_demand over every thread of pid; nullopt if none could be read.
std::optional<uint64_t> read_cpu_demand_ns(pid_t pid);

// What the console shows of a boot. The console is a bounded ring of two files fed by the
// sandbox's log pump (log_ring.h): `marker` is the count of bytes the guest has written to
// it (it keeps growing when the ring rotates, unlike the files' sizes), `agent_ready` says
// whether the stream held the agent's ready line (found in the stream, so a line split
// between two reads or across a rotation is not missed).
struct ConsoleProgress {
  uint64_t marker = 0;
  bool agent_ready = false;
};
inline constexpr std::string_view kAgentReadyLine = "hull-agent ready ";

// One thread's name and scheduler state from its /proc/<pid>/task/<tid>/stat line
// ("42 (CPU 0/TCG) S 1 ..."; the name may hold spaces and parentheses); nullopt if malformed.
struct ThreadState {
  std::string comm;
  char state = '?';
};
std::optional<ThreadState> parse_thread_stat(std::string_view text);

// "CPU 0/TCG S futex_wait_queue, vhost-user R -, ..." for every thread of pid (the wait
// channel after the state letter, "-" while it runs), "gone" when pid has no threads:
// written into a stall's error, to tell a halted guest (QEMU's threads asleep in futex or
// poll waits) from QEMU waiting for a backend (a thread asleep in a socket read) or a
// process stuck in the host's kernel (state D).
std::string describe_threads(pid_t pid);

// One sample of the VM's processes (QEMU and its vhost-user backends: QEMU waits for a
// backend's answer while the guest probes a device, so a starved backend is the VM's
// demand too) and its console (`console`, read from the log pump), taken now.
BootSample sample_boot(std::span<const pid_t> vm_pids, const ConsoleProgress& console,
                       bool ready_seen);

}  // namespace hull::sandbox
