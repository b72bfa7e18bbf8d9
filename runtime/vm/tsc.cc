#include "runtime/vm/tsc.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <charconv>

#include "common/file.h"
#include "common/text.h"
#include "common/unique_fd.h"

namespace hull::vm {
namespace {

constexpr uint64_t kMinKhz = 100'000;     // 100 MHz
constexpr uint64_t kMaxKhz = 10'000'000;  // 10 GHz
constexpr size_t kMaxCpuinfoBytes = 4 << 20;
constexpr size_t kMaxKernelLogBytes = 8 << 20;
constexpr uint64_t kMeasureNs = 50'000'000;

std::optional<uint64_t> plausible(uint64_t khz) {
  if (khz < kMinKhz || khz > kMaxKhz) return std::nullopt;
  return khz;
}

// "2299.999" (MHz, up to 3 decimals) -> 2299999 kHz.
std::optional<uint64_t> parse_mhz(std::string_view s) {
  size_t end = s.find_first_not_of("0123456789.");
  s = s.substr(0, end);
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (whole.empty() || frac.find('.') != std::string_view::npos) return std::nullopt;
  uint64_t mhz = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), mhz);
  if (ec != std::errc() || p != whole.data() + whole.size()) return std::nullopt;
  uint64_t khz = mhz * 1000;
  uint64_t scale = 100;
  for (size_t i = 0; i < frac.size() && i < 3; ++i, scale /= 10) {
    khz += static_cast<uint64_t>(frac[i] - '0') * scale;
  }
  return plausible(khz);
}

// The MHz value following the last occurrence of `marker` in `log`.
std::optional<uint64_t> last_mhz_after(std::string_view log, std::string_view marker) {
  size_t pos = log.rfind(marker);
  if (pos == std::string_view::npos) return std::nullopt;
  std::string_view rest = log.substr(pos + marker.size());
  rest = rest.substr(0, rest.find('\n'));
  rest = trim(rest);
  if (rest.find(" MHz") == std::string_view::npos) return std::nullopt;
  return parse_mhz(rest);
}

bool cpuinfo_has_flag(std::string_view cpuinfo, std::string_view flag) {
  size_t pos = cpuinfo.find("\nflags");
  if (pos == std::string_view::npos) return false;
  std::string_view line = cpuinfo.substr(pos + 1);
  line = line.substr(0, line.find('\n'));
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  line.remove_prefix(colon + 1);
  while (!line.empty()) {
    line = line.substr(std::min(line.size(), line.find_first_not_of(' ')));
    std::string_view word = line.substr(0, line.find(' '));
    if (word == flag) return true;
    line.remove_prefix(word.size());
  }
  return false;
}

// Reads the kernel log records available now (/dev/kmsg, non-blocking), one per read().
std::optional<std::string> read_kernel_log() {
  UniqueFd fd(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string log;
  char buf[8192];
  while (log.size() < kMaxKernelLogBytes) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EPIPE) continue;  // a record was overwritten while we read
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    // "pri,seq,usec,flags;message\n": keep the message.
    std::string_view rec(buf, static_cast<size_t>(n));
    size_t semi = rec.find(';');
    if (semi != std::string_view::npos) rec.remove_prefix(semi + 1);
    log.append(rec.substr(0, rec.find('\n'))).push_back('\n');
  }
  return log;
}

uint64_t now_raw_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// One (time, tsc) sample with the clock read tightly around rdtsc; retried if preempted.
void sample(uint64_t* ns, uint64_t* tsc) {
  uint64_t best_window = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    uint64_t t0 = now_raw_ns();
    uint64_t c = __rdtsc();
    uint64_t t1 = now_raw_ns();
    if (t1 - t0 < best_window) {
      best_window = t1 - t0;
      *ns = t0 + (t1 - t0) / 2;
      *tsc = c;
    }
  }
}

std::optional<uint64_t> measure_tsc_khz() {
  uint64_t ns0 = 0, tsc0 = 0, ns1 = 0, tsc1 = 0;
  sample(&ns0, &tsc0);
  timespec nap{0, static_cast<long>(kMeasureNs)};
  while (::nanosleep(&nap, &nap) != 0 && errno == EINTR) {
  }
  sample(&ns1, &tsc1);
  if (tsc1 <= tsc0 || ns1 <= ns0) return std::nullopt;
  return tsc_khz_from_interval(tsc1 - tsc0, ns1 - ns0);
}

}  // namespace

std::optional<uint64_t> parse_sysfs_tsc_khz(std::string_view text) {
  text = trim(text);
  uint64_t khz = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), khz);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return plausible(khz);
}

std::optional<uint64_t> parse_kernel_log_tsc_khz(std::string_view log) {
  if (auto refined = last_mhz_after(log, "tsc: Refined TSC clocksource calibration:")) {
    return refined;
  }
  return last_mhz_after(log, "tsc: Detected ");
}

std::optional<uint64_t> parse_cpuinfo_tsc_khz(std::string_view cpuinfo) {
  if (!cpuinfo_has_flag(cpuinfo, "constant_tsc")) return std::nullopt;
  size_t pos = cpuinfo.find("cpu MHz");
  if (pos == std::string_view::npos) return std::nullopt;
  std::string_view line = cpuinfo.substr(pos);
  line = line.substr(0, line.find('\n'));
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return parse_mhz(trim(line.substr(colon + 1)));
}

std::optional<uint64_t> tsc_khz_from_interval(uint64_t ticks, uint64_t nanoseconds) {
  if (nanoseconds == 0) return std::nullopt;
  // ticks / (ns / 1e6) = kHz; ticks fits 64 bits after * 1e6 for intervals under ~2 hours.
  unsigned __int128 khz = static_cast<unsigned __int128>(ticks) * 1'000'000u / nanoseconds;
  return plausible(static_cast<uint64_t>(khz));
}

Result<TscRate> host_tsc_rate() {
  if (auto text = read_file("/sys/devices/system/cpu/cpu0/tsc_freq_khz", 64)) {
    if (auto khz = parse_sysfs_tsc_khz(*text)) return TscRate{*khz, "sysfs"};
  }
  if (auto log = read_kernel_log()) {
    if (auto khz = parse_kernel_log_tsc_khz(*log)) return TscRate{*khz, "kernel log"};
  }
  auto cpuinfo = read_file("/proc/cpuinfo", kMaxCpuinfoBytes);
  bool constant = cpuinfo && cpuinfo_has_flag(*cpuinfo, "constant_tsc");
  if (constant) {
    if (auto khz = measure_tsc_khz()) return TscRate{*khz, "measured"};
    if (auto khz = parse_cpuinfo_tsc_khz(*cpuinfo)) return TscRate{*khz, "cpuinfo"};
  }
  return fail(Errc::Unsupported,
              "cannot tell the host's TSC rate: no tsc_freq_khz in sysfs, no tsc line in the "
              "kernel log, and the CPU has no constant_tsc");
}

}  // namespace hull::vm
