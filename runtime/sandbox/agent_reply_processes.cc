// ListProcesses replies (agent_reply.h: parse_processes, parse_process_list_extras).
#include "runtime/sandbox/agent_reply.h"

#include "runtime/sandbox/agent_reply_check.h"

namespace hull::sandbox {

using namespace detail;

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

}  // namespace hull::sandbox
