#include "agent/rpc/guest_info.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <charconv>

#include "common/file.h"
#include "common/unique_fd.h"

namespace hull::agent::rpc {

namespace {

// "MemTotal:        1234 kB" -> 1234 when the line starts with `key`.
bool parse_kib_line(std::string_view line, std::string_view key, uint64_t* out) {
  if (!line.starts_with(key)) return false;
  line.remove_prefix(key.size());
  size_t i = line.find_first_not_of(' ');
  if (i == std::string_view::npos) return false;
  line.remove_prefix(i);
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), *out);
  return ec == std::errc{} && std::string_view(end, line.data() + line.size()).starts_with(" kB");
}

}  // namespace

Result<MemInfo> parse_meminfo(std::string_view text) {
  MemInfo m;
  bool have_total = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (parse_kib_line(line, "MemTotal:", &m.total_kib)) have_total = true;
    parse_kib_line(line, "MemAvailable:", &m.available_kib);
    parse_kib_line(line, "Dirty:", &m.dirty_kib);
    parse_kib_line(line, "Writeback:", &m.writeback_kib);
    parse_kib_line(line, "WritebackTmp:", &m.writeback_tmp_kib);
  }
  if (!have_total) return fail(Errc::Invalid, "/proc/meminfo: no MemTotal line");
  return m;
}

Result<MemInfo> read_meminfo() {
  HULL_ASSIGN(text, read_file("/proc/meminfo", 64 << 10));
  return parse_meminfo(text);
}

bool page_cache_clean() {
  // It fails (EINVAL) when it finds a counter negative, i.e. not settled yet.
  UniqueFd fd(::open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), "1", 1) != 1) return false;
  auto m = read_meminfo();
  return m && m->dirty_kib == 0 && m->writeback_kib == 0 && m->writeback_tmp_kib == 0;
}

uint64_t boottime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace hull::agent::rpc
