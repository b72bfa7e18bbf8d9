#include "runtime/sandbox/boot_progress.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace hull::sandbox {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string ms_text(std::chrono::steady_clock::duration d) {
  return std::to_string(duration_cast<milliseconds>(d).count()) + " ms";
}

// One unsigned decimal field at the front of text; advances text past it.
std::optional<uint64_t> take_u64(std::string_view& text) {
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data() + i) return std::nullopt;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return v;
}

}  // namespace

BootWatch::BootWatch(BootWaitPolicy policy, std::chrono::steady_clock::time_point start)
    : policy_(policy), start_(start), last_progress_(start) {}

BootVerdict BootWatch::observe(const BootSample& s) {
  if (s.console > console_) {
    console_ = s.console;
    last_progress_ = s.at;
  }
  if (s.agent_ready && !ready_at_) {
    ready_at_ = s.at;
    last_progress_ = s.at;
  }
  if (!ref_) {
    ref_ = s;
  } else if (s.at - ref_->at >= kDemandWindow) {
    if (s.cpu_demand_ns && ref_->cpu_demand_ns && *s.cpu_demand_ns >= *ref_->cpu_demand_ns) {
      const double wall_ns = static_cast<double>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(s.at - ref_->at).count());
      last_demand_ = static_cast<double>(*s.cpu_demand_ns - *ref_->cpu_demand_ns) / wall_ns;
      if (last_demand_ >= kMinDemand && !ready_at_) last_progress_ = s.at;
    }
    ref_ = s;
  }
  if (s.at - start_ >= policy_.cap) return BootVerdict::CapReached;
  if (s.at - last_progress_ >= policy_.stall) return BootVerdict::Stalled;
  return BootVerdict::Wait;
}

std::string BootWatch::describe(BootVerdict v) const {
  switch (v) {
    case BootVerdict::Wait:
      return "waiting";
    case BootVerdict::CapReached:
      return "the VM still made progress, but the start waited its cap of " + ms_text(policy_.cap) +
             " (vm.start_timeout_s; the host is overloaded?)";
    case BootVerdict::Stalled: {
      if (ready_at_) {
        return "the agent printed its ready line but did not answer within " +
               ms_text(policy_.stall);
      }
      std::string demand =
          last_demand_ < 0 ? "the VM's CPU use unknown"
                           : "QEMU and its backends ran or waited for a CPU " +
                                 std::to_string(static_cast<int>(std::lround(last_demand_ * 100))) +
                                 "% of the time";
      return "the VM showed no progress for " + ms_text(policy_.stall) + " (" + demand +
             ", console quiet)";
    }
  }
  return "unknown";
}

std::optional<uint64_t> parse_schedstat_demand(std::string_view text) {
  auto on_cpu = take_u64(text);
  if (!on_cpu) return std::nullopt;
  auto waiting = take_u64(text);
  if (!waiting) return std::nullopt;
  auto slices = take_u64(text);
  if (!slices) return std::nullopt;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
  if (!text.empty()) return std::nullopt;
  if (*on_cpu > UINT64_MAX - *waiting) return std::nullopt;
  return *on_cpu + *waiting;
}

std::optional<uint64_t> read_cpu_demand_ns(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/task", ec);
  if (ec) return std::nullopt;
  std::optional<uint64_t> sum;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) break;  // a thread that ended while listed ends the walk: the sum so far counts
    std::ifstream f(it->path() / "schedstat");
    std::string line((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (auto v = parse_schedstat_demand(line)) sum = sum.value_or(0) + *v;
  }
  return sum;
}

std::optional<ThreadState> parse_thread_stat(std::string_view text) {
  const size_t open = text.find(" (");
  const size_t close = text.rfind(") ");
  if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2 ||
      close + 2 >= text.size()) {
    return std::nullopt;
  }
  const char state = text[close + 2];
  if (state < 'A' || state > 'z') return std::nullopt;
  return ThreadState{.comm = std::string(text.substr(open + 2, close - open - 2)), .state = state};
}

std::string describe_threads(pid_t pid) {
  std::error_code ec;
  const std::filesystem::path task = "/proc/" + std::to_string(pid) + "/task";
  std::string out;
  for (std::filesystem::directory_iterator it(task, ec), end; !ec && it != end; it.increment(ec)) {
    std::ifstream f(it->path() / "stat");
    std::string line;
    std::getline(f, line);
    auto t = parse_thread_stat(line);
    if (!t) continue;  // the thread ended while listed
    std::ifstream w(it->path() / "wchan");
    std::string wchan;
    std::getline(w, wchan);
    if (wchan.empty() || wchan == "0") wchan = "-";
    if (!out.empty()) out += ", ";
    out += t->comm + " " + t->state + " " + wchan;
  }
  return out.empty() ? "gone" : out;
}

BootSample sample_boot(std::span<const pid_t> vm_pids, const ConsoleProgress& c, bool ready_seen) {
  std::optional<uint64_t> demand;
  for (pid_t p : vm_pids) {
    if (auto d = read_cpu_demand_ns(p)) demand = demand.value_or(0) + *d;
  }
  return {.at = std::chrono::steady_clock::now(),
          .cpu_demand_ns = demand,
          .console = c.marker,
          .agent_ready = ready_seen || c.agent_ready};
}

}  // namespace hull::sandbox
