#include "runtime/sandbox/agent_reply.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "agent/proto/constants.h"
#include "agent/proto/error_codec.h"

namespace hull::sandbox {

namespace {

// How much of a bad string an error message quotes.
constexpr size_t kQuoteBytes = 64;

std::unexpected<Error> bad(std::string_view call, const std::string& what) {
  return fail(Errc::GuestProtocol, "agent reply " + std::string(call) + ": " + what);
}

std::string quoted(std::string_view s) {
  return "\"" + printable(s, kQuoteBytes) + "\"";
}

// The length of the UTF-8 sequence at s[i], with its code point in *cp; 0 when
// the bytes there are not UTF-8.
size_t decode_utf8(std::string_view s, size_t i, char32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = byte(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n = 0;
  char32_t v = 0;
  char32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (byte(k) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// A string field: at most `max_bytes`, no NUL, UTF-8.
Status check_text(std::string_view call, const std::string& field, std::string_view s,
                  size_t max_bytes) {
  if (s.size() > max_bytes) {
    return bad(call, field + " of " + std::to_string(s.size()) + " bytes (at most " +
                         std::to_string(max_bytes) + ")");
  }
  if (s.find('\0') != std::string_view::npos)
    return bad(call, field + " " + quoted(s) + " has a NUL");
  if (!valid_utf8(s)) return bad(call, field + " " + quoted(s) + " is not UTF-8");
  return {};
}

// check_text, and no control characters either.
Status check_plain_text(std::string_view call, const std::string& field, std::string_view s,
                        size_t max_bytes) {
  HULL_TRY(check_text(call, field, s, max_bytes));
  if (printable(s) != s) return bad(call, field + " " + quoted(s) + " has control characters");
  return {};
}

Status check_at_most(std::string_view call, const std::string& field, uint64_t v, uint64_t max) {
  if (v > max) {
    return bad(call, field + " " + std::to_string(v) + " out of range (at most " +
                         std::to_string(max) + ")");
  }
  return {};
}

Status check_container_id(std::string_view call, const std::string& field, std::string_view id) {
  if (id.empty()) return bad(call, field + " is empty");
  HULL_TRY(check_at_most(call, field + " length", id.size(), kMaxContainerIdBytes));
  if (id == "." || id == "..")
    return bad(call, field + " " + quoted(id) + " is not a container id");
  for (char c : id) {
    bool good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '+' || c == '-' || c == '.';
    if (!good) return bad(call, field + " " + quoted(id) + " is not a container id");
  }
  return {};
}

}  // namespace

bool valid_utf8(std::string_view s) {
  char32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = decode_utf8(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    size_t n = decode_utf8(s, i, &cp);
    std::string_view piece = (n == 0 || is_control(cp)) ? std::string_view("?") : s.substr(i, n);
    if (piece.size() > max_bytes - out.size()) {
      out += "...";
      break;
    }
    out += piece;
    i += n == 0 ? 1 : n;
  }
  return out;
}

Error agent_error(const grpc::Status& st, std::string_view call) {
  // The agent names the Errc in the status details (agent/proto/error_codec.h).
  Errc code = agent::errc_for_status(st);
  return Error{code, 0,
               "agent " + std::string(call) + ": " +
                   printable(st.error_message(), kMaxAgentErrorBytes) + " (gRPC code " +
                   std::to_string(static_cast<int>(st.error_code())) + ")"};
}

Result<ExitInfo> parse_wait(const agent::WaitProcessResponse& r) {
  constexpr std::string_view call = "WaitProcess";
  int32_t status = r.exit_status();
  uint32_t sig = r.signal();
  if (status < 0 || status > 255) {
    return bad(call, "exit_status " + std::to_string(status) + " out of range (0-255)");
  }
  if (!r.signaled()) {
    if (sig != 0) return bad(call, "signal " + std::to_string(sig) + " without signaled");
    return ExitInfo{status, false, 0};
  }
  if (sig < 1 || sig > 64) {
    return bad(call, "signal " + std::to_string(sig) + " out of range (1-64)");
  }
  if (status != 128 + static_cast<int>(sig)) {
    return bad(call, "exit_status " + std::to_string(status) + " with signal " +
                         std::to_string(sig) + " (a signaled exit is 128 + signal)");
  }
  return ExitInfo{status, true, static_cast<int>(sig)};
}

Result<size_t> parse_written(const agent::WriteStdinResponse& r, size_t sent) {
  if (r.written() > sent) {
    return bad("WriteStdin", "written " + std::to_string(r.written()) + " of " +
                                 std::to_string(sent) + " bytes sent");
  }
  return static_cast<size_t>(r.written());
}

Status check_io_chunk(const agent::IoChunk& c, std::string_view call) {
  return check_at_most(call, "data size", c.data().size(), agent::kMaxIoChunkBytes);
}

namespace {

// The state letter of a process or thread: one of kProcessStates, or none.
Status check_state(std::string_view call, const std::string& at, const std::string& state) {
  if (state.size() > 1 || (state.size() == 1 && std::string_view(kProcessStates).find(state[0]) ==
                                                    std::string_view::npos)) {
    return bad(call, at + ".state \"" + printable(state, kQuoteBytes) +
                         "\" is not a process state (one of " + kProcessStates + ")");
  }
  return {};
}

Status check_range(std::string_view call, const std::string& field, int64_t v, int64_t lo,
                   int64_t hi) {
  if (v < lo || v > hi) {
    return bad(call, field + " " + std::to_string(v) + " out of range (" + std::to_string(lo) +
                         "-" + std::to_string(hi) + ")");
  }
  return {};
}

// What a thread shares with check_process_columns, and its own tid and wchan.
Status check_thread(std::string_view call, const std::string& at, const agent::ThreadInfo& t) {
  constexpr auto kPid = static_cast<int64_t>(kMaxGuestPid);
  HULL_TRY(check_range(call, at + ".tid", t.tid(), 1, kPid));
  HULL_TRY(check_text(call, at + ".comm", t.comm(), kMaxCommBytes));
  HULL_TRY(check_state(call, at, t.state()));
  HULL_TRY(check_range(call, at + ".priority", t.priority(), -100, 139));
  HULL_TRY(check_range(call, at + ".nice", t.nice(), -20, 19));
  HULL_TRY(check_range(call, at + ".processor", t.processor(), 0,
                       static_cast<int64_t>(kMaxGuestCpus) - 1));
  HULL_TRY(check_at_most(call, at + ".policy", t.policy(), kMaxSchedPolicy));
  HULL_TRY(check_at_most(call, at + ".rt_priority", t.rt_priority(), kMaxRtPriority));
  HULL_TRY(check_at_most(call, at + ".cpu_time_ms", t.cpu_time_ms(), kMaxProcessTimeMs));
  HULL_TRY(check_at_most(call, at + ".elapsed_ms", t.elapsed_ms(), kMaxProcessTimeMs));
  return check_text(call, at + ".wchan", t.wchan(), kMaxWchanBytes);
}

// Fields 19 and up of a process (ProcessInfo's other ps(1) columns).
Status check_process_details(std::string_view call, const std::string& at,
                             const agent::ProcessInfo& p) {
  constexpr auto kPid = static_cast<int64_t>(kMaxGuestPid);
  HULL_TRY(check_range(call, at + ".tpgid", p.tpgid(), -1, kPid));
  HULL_TRY(check_at_most(call, at + ".policy", p.policy(), kMaxSchedPolicy));
  HULL_TRY(check_at_most(call, at + ".rt_priority", p.rt_priority(), kMaxRtPriority));
  HULL_TRY(check_at_most(call, at + ".children_cpu_time_ms", p.children_cpu_time_ms(),
                         kMaxProcessTimeMs));
  const std::pair<const char*, uint32_t> ids[] = {{"euid", p.euid()},   {"suid", p.suid()},
                                                  {"fsuid", p.fsuid()}, {"egid", p.egid()},
                                                  {"sgid", p.sgid()},   {"fsgid", p.fsgid()}};
  for (const auto& [field, id] : ids) {
    if (id == UINT32_MAX) return bad(call, at + "." + field + " 4294967295 is not an id");
  }
  HULL_TRY(check_at_most(call, at + ".groups count", static_cast<uint64_t>(p.groups_size()),
                         kMaxGroups));
  for (uint32_t g : p.groups()) {
    if (g == UINT32_MAX) return bad(call, at + ".groups: 4294967295 is not a gid");
  }
  const agent::ProcessNames& n = p.names();
  const std::pair<const char*, const std::string*> names[] = {
      {"user", &n.user()},     {"ruser", &n.ruser()},    {"suser", &n.suser()},
      {"fsuser", &n.fsuser()}, {"group", &n.group()},    {"rgroup", &n.rgroup()},
      {"sgroup", &n.sgroup()}, {"fsgroup", &n.fsgroup()}};
  for (const auto& [field, name] : names) {
    HULL_TRY(check_text(call, at + ".names." + field, *name, kMaxIdNameBytes));
  }
  if (n.groups_size() != 0 && n.groups_size() != p.groups_size()) {
    return bad(call, at + ".names.groups: " + std::to_string(n.groups_size()) + " names for " +
                         std::to_string(p.groups_size()) + " groups");
  }
  for (const auto& g : n.groups()) {
    HULL_TRY(check_text(call, at + ".names.groups", g, kMaxIdNameBytes));
  }
  HULL_TRY(check_text(call, at + ".wchan", p.wchan(), kMaxWchanBytes));
  const std::pair<const char*, uint64_t> sizes[] = {
      {"share_kib", p.share_kib()},     {"text_kib", p.text_kib()},
      {"data_kib", p.data_kib()},       {"vm_lock_kib", p.vm_lock_kib()},
      {"vm_data_kib", p.vm_data_kib()}, {"vm_stack_kib", p.vm_stack_kib()},
      {"vm_exe_kib", p.vm_exe_kib()},   {"vm_lib_kib", p.vm_lib_kib()},
      {"vm_swap_kib", p.vm_swap_kib()}, {"pss_kib", p.pss_kib()},
      {"uss_kib", p.uss_kib()}};
  for (const auto& [field, v] : sizes) {
    HULL_TRY(check_at_most(call, at + "." + field, v, kMaxMemoryBytes / 1024));
  }
  size_t env = 0;
  for (int k = 0; k < p.environ_size(); ++k) {
    env += p.environ(k).size() + 1;
    HULL_TRY(check_at_most(call, at + ".environ bytes", env, kMaxEnvironBytes));
    HULL_TRY(check_text(call, at + ".environ[" + std::to_string(k) + "]", p.environ(k),
                        kMaxEnvironBytes));
  }
  HULL_TRY(check_at_most(call, at + ".tasks count", static_cast<uint64_t>(p.tasks_size()),
                         kMaxGuestPid));
  for (int k = 0; k < p.tasks_size(); ++k) {
    HULL_TRY(check_thread(call, at + ".tasks[" + std::to_string(k) + "]", p.tasks(k)));
  }
  HULL_TRY(check_text(call, at + ".label", p.label(), kMaxPathBytes));
  HULL_TRY(check_at_most(call, at + ".cgroups count", static_cast<uint64_t>(p.cgroups_size()),
                         kMaxCgroupLines));
  for (const auto& c : p.cgroups()) HULL_TRY(check_text(call, at + ".cgroups", c, kMaxPathBytes));
  HULL_TRY(check_text(call, at + ".exe", p.exe(), kMaxPathBytes));
  HULL_TRY(check_range(call, at + ".oom_score", p.oom_score(), 0, 2000));
  HULL_TRY(check_range(call, at + ".oom_score_adj", p.oom_score_adj(), -1000, 1000));
  HULL_TRY(check_range(call, at + ".autogroup", p.autogroup(), -1, INT64_MAX));
  return check_range(call, at + ".autogroup_nice", p.autogroup_nice(), -20, 19);
}

// Every string of a checked process made printable (a container process
// chooses its own argv, environment, names: none may drive the terminal of
// whoever runs `hull ps`).
void make_printable(agent::ProcessInfo& p) {
  *p.mutable_comm() = printable(p.comm());
  for (std::string& a : *p.mutable_args()) a = printable(a);
  for (std::string& e : *p.mutable_environ()) e = printable(e);
  agent::ProcessNames& n = *p.mutable_names();
  for (std::string* s :
       {n.mutable_user(), n.mutable_ruser(), n.mutable_suser(), n.mutable_fsuser(),
        n.mutable_group(), n.mutable_rgroup(), n.mutable_sgroup(), n.mutable_fsgroup()}) {
    *s = printable(*s);
  }
  for (std::string& g : *n.mutable_groups()) g = printable(g);
  *p.mutable_wchan() = printable(p.wchan());
  *p.mutable_label() = printable(p.label());
  for (std::string& c : *p.mutable_cgroups()) c = printable(c);
  *p.mutable_exe() = printable(p.exe());
  for (agent::ThreadInfo& t : *p.mutable_tasks()) {
    *t.mutable_comm() = printable(t.comm());
    *t.mutable_wchan() = printable(t.wchan());
  }
}

}  // namespace

// The ps(1) columns of one process (ProcessInfo fields 6-18).
Status check_process_columns(std::string_view call, const std::string& at,
                             const agent::ProcessInfo& p) {
  HULL_TRY(check_state(call, at, p.state()));
  auto in = [&](const char* field, int64_t v, int64_t lo, int64_t hi) -> Status {
    if (v < lo || v > hi) {
      return bad(call, at + "." + field + " " + std::to_string(v) + " out of range (" +
                           std::to_string(lo) + "-" + std::to_string(hi) + ")");
    }
    return {};
  };
  constexpr auto kPid = static_cast<int64_t>(kMaxGuestPid);
  HULL_TRY(in("pgid", p.pgid(), 0, kPid));
  HULL_TRY(in("sid", p.sid(), 0, kPid));
  HULL_TRY(in("priority", p.priority(), -100, 139));  // real-time -100..-2, normal 0..39
  HULL_TRY(in("nice", p.nice(), -20, 19));
  HULL_TRY(in("processor", p.processor(), 0, static_cast<int64_t>(kMaxGuestCpus) - 1));
  HULL_TRY(check_at_most(call, at + ".threads", p.threads(), kMaxGuestPid));
  HULL_TRY(check_at_most(call, at + ".cpu_time_ms", p.cpu_time_ms(), kMaxProcessTimeMs));
  HULL_TRY(check_at_most(call, at + ".elapsed_ms", p.elapsed_ms(), kMaxProcessTimeMs));
  HULL_TRY(check_at_most(call, at + ".vsz_kib", p.vsz_kib(), kMaxMemoryBytes / 1024));
  HULL_TRY(check_at_most(call, at + ".rss_kib", p.rss_kib(), kMaxMemoryBytes / 1024));
  return {};
}

Result<std::vector<agent::ProcessInfo>> parse_processes(agent::ListProcessesResponse r) {
  constexpr std::string_view call = "ListProcesses";
  const int n = r.processes_size();
  HULL_TRY(check_at_most(call, "processes count", static_cast<uint64_t>(n), kMaxReplyProcesses));
  std::vector<int32_t> pids;
  pids.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    agent::ProcessInfo& p = *r.mutable_processes(i);
    const std::string at = "processes[" + std::to_string(i) + "]";
    if (p.pid() < 1 || static_cast<uint64_t>(p.pid()) > kMaxGuestPid) {
      return bad(call, at + ".pid " + std::to_string(p.pid()) + " out of range (1-" +
                           std::to_string(kMaxGuestPid) + ")");
    }
    if (p.ppid() < 0 || static_cast<uint64_t>(p.ppid()) > kMaxGuestPid) {
      return bad(call, at + ".ppid " + std::to_string(p.ppid()) + " out of range (0-" +
                           std::to_string(kMaxGuestPid) + ")");
    }
    if (p.uid() == UINT32_MAX) return bad(call, at + ".uid 4294967295 is not a uid");
    if (p.gid() == UINT32_MAX) return bad(call, at + ".gid 4294967295 is not a gid");
    HULL_TRY(check_process_columns(call, at, p));
    HULL_TRY(check_process_details(call, at, p));
    HULL_TRY(check_text(call, at + ".comm", p.comm(), kMaxCommBytes));
    size_t cmdline = 0;
    for (int k = 0; k < p.args_size(); ++k) {
      cmdline += p.args(k).size() + 1;
      HULL_TRY(check_at_most(call, at + ".args bytes", cmdline, kMaxCmdlineBytes));
      HULL_TRY(
          check_text(call, at + ".args[" + std::to_string(k) + "]", p.args(k), kMaxCmdlineBytes));
    }
    pids.push_back(p.pid());
  }
  HULL_TRY(check_at_most(call, "mem_total_kib", r.mem_total_kib(), kMaxMemoryBytes / 1024));
  std::sort(pids.begin(), pids.end());
  if (auto dup = std::adjacent_find(pids.begin(), pids.end()); dup != pids.end()) {
    return bad(call, "pid " + std::to_string(*dup) + " listed twice");
  }
  std::vector<agent::ProcessInfo> out;
  out.reserve(static_cast<size_t>(n));
  for (agent::ProcessInfo& p : *r.mutable_processes()) {
    make_printable(p);
    out.push_back(std::move(p));
  }
  return out;
}

Result<ProcessListExtras> parse_process_list_extras(const agent::ListProcessesResponse& r) {
  constexpr std::string_view call = "ListProcesses";
  ProcessListExtras out;
  HULL_TRY(check_at_most(call, "mem_total_kib", r.mem_total_kib(), kMaxMemoryBytes / 1024));
  out.mem_total_kib = r.mem_total_kib();
  out.truncated = r.truncated();
  auto table = [&](const char* field, const auto& from,
                   std::vector<std::pair<uint32_t, std::string>>& to) -> Status {
    HULL_TRY(check_at_most(call, std::string(field) + " count", static_cast<uint64_t>(from.size()),
                           kMaxReplyIdNames));
    for (const agent::IdName& n : from) {
      if (n.id() == UINT32_MAX) return bad(call, std::string(field) + ": 4294967295 is not an id");
      if (n.name().empty()) return bad(call, std::string(field) + ": an empty name");
      HULL_TRY(check_plain_text(call, std::string(field) + " name", n.name(), kMaxIdNameBytes));
      to.emplace_back(n.id(), n.name());
    }
    return {};
  };
  HULL_TRY(table("users", r.users(), out.users));
  HULL_TRY(table("groups", r.groups(), out.groups));
  return out;
}

Result<agent::CgroupStats> parse_stats(const agent::StatsContainerResponse& r) {
  constexpr std::string_view call = "StatsContainer";
  if (!r.has_cgroup()) return bad(call, "no cgroup");
  const agent::CgroupStats& c = r.cgroup();
  struct Bound {
    const char* field;
    uint64_t value;
    uint64_t max;
  };
  const Bound bounds[] = {
      {"cgroup.cpu_usage_usec", c.cpu_usage_usec(), kMaxCpuUsec},
      {"cgroup.cpu_user_usec", c.cpu_user_usec(), kMaxCpuUsec},
      {"cgroup.cpu_system_usec", c.cpu_system_usec(), kMaxCpuUsec},
      {"cgroup.memory_current", c.memory_current(), kMaxMemoryBytes},
      {"cgroup.memory_max", c.memory_max(), kMaxMemoryBytes},
      {"cgroup.memory_swap_current", c.memory_swap_current(), kMaxMemoryBytes},
      {"cgroup.pids_current", c.pids_current(), kMaxGuestPid},
      {"cgroup.pids_max", c.pids_max(), kMaxGuestPid},
  };
  for (const Bound& b : bounds) HULL_TRY(check_at_most(call, b.field, b.value, b.max));
  HULL_TRY(check_at_most(call, "cgroup.cpu_throttled_usec", c.cpu_throttled_usec(), kMaxCpuUsec));
  HULL_TRY(
      check_at_most(call, "cgroup.memory_stat count", c.memory_stat().size(), kMaxMemoryStatKeys));
  for (const auto& [k, v] : c.memory_stat()) {
    if (k.empty() || k.size() > kMaxMemoryStatKeyBytes ||
        k.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
      return bad(call, "cgroup.memory_stat key " + quoted(k) +
                           " is not a memory.stat name (a-z, 0-9, _; at most " +
                           std::to_string(kMaxMemoryStatKeyBytes) + " bytes)");
    }
  }
  HULL_TRY(check_at_most(call, "cgroup.io_devices count", c.io_devices().size(), kMaxIoDevices));
  for (int i = 0; i < c.io_devices_size(); ++i) {
    const agent::IoDeviceStats& d = c.io_devices(i);
    const std::string at = "cgroup.io_devices[" + std::to_string(i) + "]";
    HULL_TRY(check_at_most(call, at + ".major", d.major(), kMaxDeviceMajor));
    HULL_TRY(check_at_most(call, at + ".minor", d.minor(), kMaxDeviceMinor));
  }
  return c;
}

Result<std::string> parse_oom_event(const agent::OomEvent& e) {
  HULL_TRY(check_container_id("OomEvents", "container_id", e.container_id()));
  return e.container_id();
}

Status check_health(const agent::HealthResponse& r) {
  if (r.status() != agent::HealthResponse::SERVING) {
    return fail(Errc::NotRunning,
                "agent Health: not serving (status " + std::to_string(r.status()) + ")");
  }
  return {};
}

Result<agent::GuestDetailsResponse> parse_guest_details(agent::GuestDetailsResponse r) {
  constexpr std::string_view call = "GetGuestDetails";
  const std::pair<const char*, const std::string*> texts[] = {
      {"kernel_release", &r.kernel_release()},
      {"kernel_version", &r.kernel_version()},
      {"machine", &r.machine()},
      {"agent_version", &r.agent_version()},
      {"agent_commit", &r.agent_commit()},
  };
  for (const auto& [field, text] : texts) {
    HULL_TRY(check_plain_text(call, field, *text, kMaxDetailBytes));
  }
  const uint64_t start = r.agent_start_boottime_ns();
  const uint64_t ready = r.agent_ready_boottime_ns();
  const uint64_t now = r.now_boottime_ns();
  if (start > now) {
    return bad(call, "agent_start_boottime_ns " + std::to_string(start) +
                         " after now_boottime_ns " + std::to_string(now));
  }
  if (ready != 0 && (ready < start || ready > now)) {
    return bad(call, "agent_ready_boottime_ns " + std::to_string(ready) + " not between start " +
                         std::to_string(start) + " and now " + std::to_string(now));
  }
  if (r.mem_available_kib() > r.mem_total_kib()) {
    return bad(call, "mem_available_kib " + std::to_string(r.mem_available_kib()) +
                         " above mem_total_kib " + std::to_string(r.mem_total_kib()));
  }
  HULL_TRY(check_at_most(call, "online_cpus", r.online_cpus(), kMaxGuestCpus));
  return r;
}

Result<agent::ReadSharedFileResponse> parse_shared_file(agent::ReadSharedFileResponse r,
                                                        uint32_t max_bytes) {
  constexpr std::string_view call = "ReadSharedFile";
  if (r.data().size() > max_bytes) {
    return bad(call, std::to_string(r.data().size()) + " bytes of data, asked for at most " +
                         std::to_string(max_bytes));
  }
  if (r.size() < r.data().size()) {
    return bad(call, "size " + std::to_string(r.size()) + " below the " +
                         std::to_string(r.data().size()) + " bytes of data");
  }
  return r;
}

namespace {

// 4 or 6 for a valid IPv4 or IPv6 address, 0 otherwise.
int ip_family(const std::string& a) {
  unsigned char buf[16];
  if (::inet_pton(AF_INET, a.c_str(), buf) == 1) return 4;
  if (::inet_pton(AF_INET6, a.c_str(), buf) == 1) return 6;
  return 0;
}

Status check_ifname(std::string_view call, const std::string& field, const std::string& name,
                    bool allow_empty) {
  if (name.empty() && allow_empty) return {};
  if (name.empty()) return bad(call, field + " is empty");
  HULL_TRY(check_plain_text(call, field, name, kMaxInterfaceNameBytes));
  if (name.find_first_of("/: \t") != std::string::npos) {
    return bad(call, field + " " + quoted(name) + " is no interface name");
  }
  return {};
}

Status check_ip(std::string_view call, const std::string& field, const std::string& a) {
  if (a.empty()) return {};
  if (a.size() > 64 || ip_family(a) == 0) {
    return bad(call, field + " " + quoted(printable(a, 64)) + " is no IP address");
  }
  return {};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<agent::Interface> parse_interface(agent::Interface r, std::string_view call) {
  HULL_TRY(check_ifname(call, "name", r.name(), false));
  const std::string& mac = r.mac();
  bool mac_ok = mac.empty() || mac.size() == 17;
  for (size_t i = 0; mac_ok && i < mac.size(); ++i) {
    mac_ok = i % 3 == 2 ? mac[i] == ':' : std::isxdigit(static_cast<unsigned char>(mac[i])) != 0;
  }
  if (!mac_ok) return bad(call, "mac " + quoted(printable(mac, 64)) + " is no MAC address");
  HULL_TRY(check_at_most(call, "mtu", r.mtu(), 65535));
  HULL_TRY(check_at_most(call, "addresses", static_cast<uint64_t>(r.addresses_size()),
                         kMaxReplyAddresses));
  for (const auto& a : r.addresses()) {
    int family = ip_family(a.address());
    if (a.address().size() > 64 || family == 0) {
      return bad(call, "address " + quoted(printable(a.address(), 64)) + " is no IP address");
    }
    uint32_t max = family == 4 ? 32 : 128;
    if (a.prefix_len() > max) {
      return bad(call, "address " + a.address() + " has prefix length " +
                           std::to_string(a.prefix_len()) + " (at most " + std::to_string(max) +
                           ")");
    }
  }
  return r;
}

Result<agent::Interface> parse_updated_interface(agent::Interface r,
                                                 const agent::Interface& asked) {
  constexpr std::string_view call = "UpdateInterface";
  HULL_ASSIGN(i, parse_interface(std::move(r), call));
  if (i.name() != asked.name() || lower(i.mac()) != lower(asked.mac())) {
    return bad(call, "answered for interface " + quoted(i.name()) + " (" + i.mac() +
                         "), asked for " + quoted(asked.name()) + " (" + asked.mac() + ")");
  }
  if (asked.mtu() != 0 && i.mtu() != asked.mtu()) {
    return bad(call, "interface " + i.name() + " has MTU " + std::to_string(i.mtu()) +
                         ", asked for " + std::to_string(asked.mtu()));
  }
  return i;
}

Result<agent::Routes> parse_routes(agent::Routes r, std::string_view call) {
  HULL_TRY(check_at_most(call, "routes", static_cast<uint64_t>(r.routes_size()), kMaxReplyRoutes));
  for (const auto& rt : r.routes()) {
    const std::string& d = rt.destination();
    if (d != "default" && d != "::/0") {
      auto slash = d.find('/');
      std::string addr = d.substr(0, slash);
      int family = d.size() <= 64 ? ip_family(addr) : 0;
      bool ok = family != 0 && slash != std::string::npos && slash + 1 < d.size() &&
                d.size() - slash - 1 <= 3 &&
                d.find_first_not_of("0123456789", slash + 1) == std::string::npos &&
                std::stoul(d.substr(slash + 1)) <= (family == 4 ? 32u : 128u);
      if (!ok) {
        return bad(call, "destination " + quoted(printable(d, 64)) + " is no route destination");
      }
    }
    HULL_TRY(check_ip(call, "gateway", rt.gateway()));
    HULL_TRY(check_ip(call, "source", rt.source()));
    HULL_TRY(check_ifname(call, "device", rt.device(), true));
    HULL_TRY(check_at_most(call, "scope", rt.scope(), 255));
    if (rt.family() != 0 && rt.family() != 4 && rt.family() != 6) {
      return bad(call, "family " + std::to_string(rt.family()) + " (0, 4 or 6)");
    }
    HULL_TRY(check_at_most(call, "mtu", rt.mtu(), 65535));
  }
  return r;
}

}  // namespace hull::sandbox
