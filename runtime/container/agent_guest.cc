#include "runtime/container/agent_guest.h"

namespace hull::container {
namespace {

sandbox::StdioMode mode(StdioMode m) {
  return sandbox::StdioMode{m.terminal, m.stdin};
}

}  // namespace

Status AgentGuest::create_container(const std::string& id, const std::string& spec_json,
                                    StdioMode stdio, const std::string& bundle) {
  return client_.create(id, spec_json, mode(stdio), bundle);
}

Status AgentGuest::start_container(const std::string& id, std::chrono::milliseconds timeout) {
  return client_.start(id, timeout);
}

Status AgentGuest::remove_container(const std::string& id, uint32_t timeout_s) {
  return client_.remove(id, timeout_s);
}

Status AgentGuest::exec_process(const ProcessRef& p, const std::string& process_json,
                                StdioMode stdio, const std::string& sub_cgroup) {
  return client_.exec(p.container_id, p.exec_id, process_json, mode(stdio),
                      sandbox::kContainerCallTimeout, sub_cgroup);
}

Status AgentGuest::signal(const ProcessRef& p, int sig, bool all) {
  return client_.signal(p.container_id, p.exec_id, sig, all);
}

Result<ExitStatus> AgentGuest::wait(const ProcessRef& p) {
  HULL_ASSIGN(e, client_.wait(p.container_id, p.exec_id));
  if (e.signaled && (e.signal < 1 || e.signal > 64)) {
    return fail(Errc::GuestProtocol,
                "agent WaitProcess: signal " + std::to_string(e.signal) + " is out of range");
  }
  if (e.status < 0 || e.status > 255) {
    return fail(Errc::GuestProtocol,
                "agent WaitProcess: exit status " + std::to_string(e.status) + " is out of range");
  }
  return ExitStatus{e.status, e.signaled, e.signal};
}

Result<size_t> AgentGuest::write_stdin(const ProcessRef& p, std::string_view data) {
  HULL_TRY(client_.write_stdin(p.container_id, p.exec_id, std::span<const char>(data)));
  return data.size();
}

Status AgentGuest::close_stdin(const ProcessRef& p) {
  return client_.close_stdin(p.container_id, p.exec_id);
}

Status AgentGuest::read_output(const ProcessRef& p, Stream s, const ChunkSink& sink) {
  bool stopped = false;
  auto st = client_.read_output(
      p.container_id, p.exec_id,
      s == Stream::Stdout ? sandbox::OutputStream::Stdout : sandbox::OutputStream::Stderr,
      [&](std::string_view chunk) -> Status {
        if (sink(chunk)) return {};
        stopped = true;
        return fail(Errc::NotRunning, "the output's reader has gone");
      });
  if (!st && stopped) return {};
  return st;
}

Status AgentGuest::resize(const ProcessRef& p, uint32_t rows, uint32_t cols) {
  return client_.resize_tty(p.container_id, p.exec_id, static_cast<uint16_t>(rows),
                            static_cast<uint16_t>(cols));
}

namespace {

char state_letter(const std::string& s) {
  return s.empty() ? '?' : s[0];
}

GuestThreadInfo thread_of(const agent::ThreadInfo& t) {
  GuestThreadInfo g;
  g.tid = t.tid();
  g.comm = t.comm();
  g.state = state_letter(t.state());
  g.cpu_time_ms = t.cpu_time_ms();
  g.elapsed_ms = t.elapsed_ms();
  g.priority = t.priority();
  g.nice = t.nice();
  g.processor = t.processor();
  g.flags = t.flags();
  g.policy = t.policy();
  g.rt_priority = t.rt_priority();
  g.min_flt = t.min_flt();
  g.maj_flt = t.maj_flt();
  g.wchan = t.wchan();
  g.sig_pending = t.sig_pending();
  g.sig_blocked = t.sig_blocked();
  g.sig_ignored = t.sig_ignored();
  g.sig_caught = t.sig_caught();
  g.kstk_esp = t.kstk_esp();
  g.kstk_eip = t.kstk_eip();
  return g;
}

// Fields 19 and up (what only ps(1)'s other columns and layouts show).
void add_details(const agent::ProcessInfo& pi, GuestProcessInfo& g) {
  g.tpgid = pi.tpgid();
  g.flags = pi.flags();
  g.policy = pi.policy();
  g.rt_priority = pi.rt_priority();
  g.min_flt = pi.min_flt();
  g.maj_flt = pi.maj_flt();
  g.children_cpu_time_ms = pi.children_cpu_time_ms();
  g.euid = pi.euid();
  g.suid = pi.suid();
  g.fsuid = pi.fsuid();
  g.egid = pi.egid();
  g.sgid = pi.sgid();
  g.fsgid = pi.fsgid();
  g.groups.assign(pi.groups().begin(), pi.groups().end());
  const agent::ProcessNames& n = pi.names();
  g.user = n.user();
  g.ruser = n.ruser();
  g.suser = n.suser();
  g.fsuser = n.fsuser();
  g.group = n.group();
  g.rgroup = n.rgroup();
  g.sgroup = n.sgroup();
  g.fsgroup = n.fsgroup();
  g.group_names.assign(n.groups().begin(), n.groups().end());
  g.wchan = pi.wchan();
  g.sig_pending = pi.sig_pending();
  g.sig_pending_thread = pi.sig_pending_thread();
  g.sig_blocked = pi.sig_blocked();
  g.sig_ignored = pi.sig_ignored();
  g.sig_caught = pi.sig_caught();
  g.start_stack = pi.start_stack();
  g.kstk_esp = pi.kstk_esp();
  g.kstk_eip = pi.kstk_eip();
  g.start_code = pi.start_code();
  g.end_code = pi.end_code();
  g.rss_rlim = pi.rss_rlim();
  g.share_kib = pi.share_kib();
  g.text_kib = pi.text_kib();
  g.data_kib = pi.data_kib();
  g.vm_lock_kib = pi.vm_lock_kib();
  g.vm_data_kib = pi.vm_data_kib();
  g.vm_stack_kib = pi.vm_stack_kib();
  g.vm_exe_kib = pi.vm_exe_kib();
  g.vm_lib_kib = pi.vm_lib_kib();
  g.vm_swap_kib = pi.vm_swap_kib();
  g.environ.assign(pi.environ().begin(), pi.environ().end());
  for (const auto& t : pi.tasks()) g.tasks.push_back(thread_of(t));
  g.label = pi.label();
  g.cgroups.assign(pi.cgroups().begin(), pi.cgroups().end());
  const agent::NamespaceIds& ns = pi.namespaces();
  g.ns = {ns.ipc(), ns.mnt(), ns.net(), ns.pid(), ns.user(), ns.uts(), ns.cgroup(), ns.time()};
  const agent::ProcessIo& io = pi.io();
  g.io = {io.rchar(),
          io.wchar(),
          io.syscr(),
          io.syscw(),
          io.read_bytes(),
          io.write_bytes(),
          io.cancelled_write_bytes()};
  g.oom_score = pi.oom_score();
  g.oom_score_adj = pi.oom_score_adj();
  g.loginuid = pi.loginuid();
  g.exe = pi.exe();
  g.pss_kib = pi.pss_kib();
  g.uss_kib = pi.uss_kib();
  g.autogroup = pi.autogroup();
  g.autogroup_nice = pi.autogroup_nice();
}

}  // namespace

Result<GuestProcessList> AgentGuest::list_processes(const std::string& id) {
  sandbox::ProcessListExtras extras;
  HULL_ASSIGN(ps, client_.list_processes(id, sandbox::kAgentCallTimeout, &extras));
  GuestProcessList out;
  out.truncated = extras.truncated;
  for (const auto& [uid, name] : extras.users) out.user_ids.emplace(name, uid);
  for (const auto& [gid, name] : extras.groups) out.group_ids.emplace(name, gid);
  for (const auto& pi : ps) {
    GuestProcessInfo g;
    g.pid = pi.pid();
    g.ppid = pi.ppid();
    g.uid = pi.uid();
    g.comm = pi.comm();
    for (const auto& a : pi.args()) g.args.push_back(a);
    g.gid = pi.gid();
    g.state = state_letter(pi.state());
    g.pgid = pi.pgid();
    g.sid = pi.sid();
    g.tty = pi.tty();
    g.cpu_time_ms = pi.cpu_time_ms();
    g.elapsed_ms = pi.elapsed_ms();
    g.priority = pi.priority();
    g.nice = pi.nice();
    g.threads = pi.threads();
    g.vsz_kib = pi.vsz_kib();
    g.rss_kib = pi.rss_kib();
    g.processor = pi.processor();
    g.mem_total_kib = extras.mem_total_kib;
    add_details(pi, g);
    out.processes.push_back(std::move(g));
  }
  return out;
}

Status AgentGuest::pause(const std::string& id) {
  return client_.pause(id);
}

Status AgentGuest::resume(const std::string& id) {
  return client_.resume(id);
}

Status AgentGuest::update(const std::string& id, const std::string& resources_json) {
  return client_.update(id, resources_json);
}

Result<GuestStats> AgentGuest::stats(const std::string& id) {
  HULL_ASSIGN(g, client_.stats(id));
  GuestStats s{g.cpu_usage_usec(),
               g.cpu_user_usec(),
               g.cpu_system_usec(),
               g.memory_current(),
               g.memory_max(),
               g.memory_swap_current(),
               g.pids_current(),
               g.pids_max(),
               g.io_read_bytes(),
               g.io_write_bytes(),
               g.oom_kills(),
               g.cpu_nr_periods(),
               g.cpu_nr_throttled(),
               g.cpu_throttled_usec(),
               {},
               g.memory_events_max(),
               {}};
  for (const auto& [k, v] : g.memory_stat()) s.memory_stat[k] = v;
  for (const auto& d : g.io_devices()) {
    s.io_devices.push_back({d.major(), d.minor(), d.rbytes(), d.wbytes(), d.rios(), d.wios()});
  }
  return s;
}

}  // namespace hull::container
