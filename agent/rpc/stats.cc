#include "agent/rpc/stats.h"

#include <unistd.h>

#include <vector>

#include "agent/rpc/proc_info.h"
#include "common/file.h"
#include "common/text.h"

namespace hull::agent::rpc {

namespace {

constexpr size_t kMaxProcFileBytes = 64 << 10;

uint64_t value_or_zero(const std::map<std::string, uint64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

}  // namespace

std::optional<uint64_t> flat_keyed_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.size() <= key.size() || !line.starts_with(key) || line[key.size()] != ' ') continue;
    uint64_t v = 0;
    if (parse_number(line.substr(key.size() + 1), &v)) return v;
  }
  return std::nullopt;
}

CgroupStats to_proto(const engine::CgroupStats& s) {
  CgroupStats p;
  p.set_cpu_usage_usec(value_or_zero(s.cpu, "usage_usec"));
  p.set_cpu_user_usec(value_or_zero(s.cpu, "user_usec"));
  p.set_cpu_system_usec(value_or_zero(s.cpu, "system_usec"));
  p.set_memory_current(s.memory_current);
  p.set_memory_max(s.memory_max.value_or(0));
  p.set_memory_swap_current(s.swap_current);
  p.set_pids_current(s.pids_current);
  p.set_pids_max(s.pids_max.value_or(0));
  uint64_t rbytes = 0, wbytes = 0;
  for (const auto& dev : s.io) {
    rbytes += value_or_zero(dev.fields, "rbytes");
    wbytes += value_or_zero(dev.fields, "wbytes");
  }
  p.set_io_read_bytes(rbytes);
  p.set_io_write_bytes(wbytes);
  p.set_oom_kills(value_or_zero(s.memory_events, "oom_kill"));
  p.set_cpu_nr_periods(value_or_zero(s.cpu, "nr_periods"));
  p.set_cpu_nr_throttled(value_or_zero(s.cpu, "nr_throttled"));
  p.set_cpu_throttled_usec(value_or_zero(s.cpu, "throttled_usec"));
  p.set_memory_events_max(value_or_zero(s.memory_events, "max"));
  for (const auto& [k, v] : s.memory) (*p.mutable_memory_stat())[k] = v;
  for (const auto& dev : s.io) {
    IoDeviceStats* d = p.add_io_devices();
    d->set_major(dev.major);
    d->set_minor(dev.minor);
    d->set_rbytes(value_or_zero(dev.fields, "rbytes"));
    d->set_wbytes(value_or_zero(dev.fields, "wbytes"));
    d->set_rios(value_or_zero(dev.fields, "rios"));
    d->set_wios(value_or_zero(dev.fields, "wios"));
  }
  return p;
}

namespace {

Result<uint32_t> parse_status_id(std::string_view text, std::string_view key) {
  std::string needle = "\n" + std::string(key) + ":";
  std::string what = "/proc/<pid>/status: ";
  size_t at = text.find(needle);
  if (at == std::string_view::npos)
    return fail(Errc::Invalid, what + "no " + std::string(key) + " line");
  std::string_view line = text.substr(at + needle.size());
  line = line.substr(0, line.find('\n'));
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string_view::npos) return fail(Errc::Invalid, what + "empty " + std::string(key));
  line.remove_prefix(b);
  uint32_t id = 0;
  if (!parse_number(line.substr(0, line.find_first_of(" \t")), &id)) {
    return fail(Errc::Invalid, what + "bad " + std::string(key));
  }
  return id;
}

}  // namespace

Result<uint32_t> parse_status_uid(std::string_view text) {
  return parse_status_id(text, "Uid");
}

Result<uint32_t> parse_status_gid(std::string_view text) {
  return parse_status_id(text, "Gid");
}

void set_times_and_sizes(const ProcStat& st, uint64_t uptime_ms, uint64_t hz, uint64_t page_kib,
                         ProcessInfo* out) {
  if (hz == 0) hz = 100;
  out->set_cpu_time_ms((st.utime + st.stime) * 1000 / hz);
  uint64_t started_ms = st.start_time * 1000 / hz;
  out->set_elapsed_ms(uptime_ms > started_ms ? uptime_ms - started_ms : 0);
  out->set_vsz_kib(st.vsize / 1024);
  out->set_rss_kib(st.rss * page_kib);
}

std::vector<std::string> split_cmdline(std::string_view text) {
  std::vector<std::string> args;
  while (!text.empty()) {
    size_t nul = text.find('\0');
    args.emplace_back(text.substr(0, nul));
    text.remove_prefix(nul == std::string_view::npos ? text.size() : nul + 1);
  }
  return args;
}

std::string printable_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= text.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    }
    if (ok && len > 1) {
      // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
      uint32_t cp = c & (0x7f >> len);
      for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (!ok) {
      out += '?';
      ++i;
      continue;
    }
    out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

Result<ProcessInfo> read_process_info(pid_t pid, IdNameCache& names) {
  std::string base = "/proc/" + std::to_string(pid) + "/";
  auto stat_text = read_file(base + "stat", kMaxProcFileBytes);
  if (!stat_text) return fail(Errc::NotFound, "process " + std::to_string(pid) + " has exited");
  HULL_ASSIGN(st, parse_proc_stat(*stat_text));
  ProcessInfo info;
  info.set_pid(st.pid);
  info.set_ppid(st.ppid);
  info.set_comm(printable_utf8(st.comm));
  info.set_state(std::string(1, st.state));
  info.set_pgid(st.pgrp);
  info.set_sid(st.session);
  info.set_tty(st.tty_nr);
  info.set_priority(st.priority);
  info.set_nice(st.nice);
  info.set_threads(st.num_threads);
  info.set_processor(st.processor);
  uint64_t uptime_ms = 0;
  if (auto up = read_file("/proc/uptime", 256)) {  // "12345.67 ..."
    uint64_t sec = 0, cs = 0;
    std::string_view u = *up;
    size_t dot = u.find('.');
    if (dot != std::string_view::npos && parse_number(u.substr(0, dot), &sec)) {
      (void)parse_number(u.substr(dot + 1, 2), &cs);
      uptime_ms = sec * 1000 + cs * 10;
    }
  }
  long hz_value = ::sysconf(_SC_CLK_TCK);
  long page = ::sysconf(_SC_PAGESIZE);
  uint64_t hz = hz_value > 0 ? static_cast<uint64_t>(hz_value) : 100;
  uint64_t page_kib = page > 0 ? static_cast<uint64_t>(page) / 1024 : 4;
  set_times_and_sizes(st, uptime_ms, hz, page_kib, &info);
  if (auto status = read_file(base + "status", kMaxProcFileBytes)) {
    if (auto uid = parse_status_uid(*status)) info.set_uid(*uid);
    if (auto gid = parse_status_gid(*status)) info.set_gid(*gid);
  }
  if (auto cmd = read_file(base + "cmdline", kMaxProcFileBytes)) {
    for (const auto& a : split_cmdline(*cmd)) info.add_args(printable_utf8(a));
  }
  read_process_details(pid, st, uptime_ms, hz, page_kib, names, &info);
  return info;
}

}  // namespace hull::agent::rpc
