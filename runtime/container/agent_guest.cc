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
                                StdioMode stdio) {
  return client_.exec(p.container_id, p.exec_id, process_json, mode(stdio));
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

Result<std::vector<GuestProcessInfo>> AgentGuest::list_processes(const std::string& id) {
  uint64_t mem_total_kib = 0;
  HULL_ASSIGN(ps, client_.list_processes(id, sandbox::kAgentCallTimeout, &mem_total_kib));
  std::vector<GuestProcessInfo> out;
  for (const auto& pi : ps) {
    GuestProcessInfo g;
    g.pid = pi.pid();
    g.ppid = pi.ppid();
    g.uid = pi.uid();
    g.comm = pi.comm();
    for (const auto& a : pi.args()) g.args.push_back(a);
    g.gid = pi.gid();
    g.state = pi.state().empty() ? '?' : pi.state()[0];
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
    g.mem_total_kib = mem_total_kib;
    out.push_back(std::move(g));
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
