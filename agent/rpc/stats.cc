#include "agent/rpc/stats.h"

#include <charconv>

#include "common/file.h"

namespace hull::agent::rpc {

namespace {

constexpr size_t kMaxProcFileBytes = 64 << 10;

template <typename T>
bool parse_number(std::string_view s, T* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc{} && end == s.data() + s.size();
}

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
  return p;
}

Result<ProcStat> parse_proc_stat(std::string_view text) {
  // "pid (comm) state ppid ...": comm ends at the last ')'.
  size_t open = text.find(" (");
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
      close + 2 >= text.size()) {
    return fail(Errc::Invalid, "/proc/<pid>/stat: no \"pid (comm)\" prefix");
  }
  ProcStat st;
  if (!parse_number(text.substr(0, open), &st.pid)) {
    return fail(Errc::Invalid, "/proc/<pid>/stat: bad pid");
  }
  st.comm = std::string(text.substr(open + 2, close - open - 2));
  std::string_view rest = text.substr(close + 2);  // "S 1 ..."
  size_t sp1 = rest.find(' ');
  if (sp1 == std::string_view::npos) return fail(Errc::Invalid, "/proc/<pid>/stat: no ppid");
  rest.remove_prefix(sp1 + 1);
  std::string_view ppid = rest.substr(0, rest.find(' '));
  if (!parse_number(ppid, &st.ppid)) return fail(Errc::Invalid, "/proc/<pid>/stat: bad ppid");
  return st;
}

Result<uint32_t> parse_status_uid(std::string_view text) {
  size_t at = text.find("\nUid:");
  if (at == std::string_view::npos) return fail(Errc::Invalid, "/proc/<pid>/status: no Uid line");
  std::string_view line = text.substr(at + 5);
  line = line.substr(0, line.find('\n'));
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string_view::npos) return fail(Errc::Invalid, "/proc/<pid>/status: empty Uid");
  line.remove_prefix(b);
  uint32_t uid = 0;
  if (!parse_number(line.substr(0, line.find_first_of(" \t")), &uid)) {
    return fail(Errc::Invalid, "/proc/<pid>/status: bad Uid");
  }
  return uid;
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

Result<ProcessInfo> read_process_info(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid) + "/";
  auto stat_text = read_file(base + "stat", kMaxProcFileBytes);
  if (!stat_text) return fail(Errc::NotFound, "process " + std::to_string(pid) + " has exited");
  HULL_ASSIGN(st, parse_proc_stat(*stat_text));
  ProcessInfo info;
  info.set_pid(st.pid);
  info.set_ppid(st.ppid);
  info.set_comm(printable_utf8(st.comm));
  if (auto status = read_file(base + "status", kMaxProcFileBytes)) {
    if (auto uid = parse_status_uid(*status)) info.set_uid(*uid);
  }
  if (auto cmd = read_file(base + "cmdline", kMaxProcFileBytes)) {
    for (const auto& a : split_cmdline(*cmd)) info.add_args(printable_utf8(a));
  }
  return info;
}

}  // namespace hull::agent::rpc
