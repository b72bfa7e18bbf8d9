#include "runtime/container/agent_guest.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "agent/proto/constants.h"

namespace hull::container {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kCallTimeout{10000};
// Creating a container mounts its rootfs over virtio-fs and runs its init's
// setup; under TCG that takes seconds.
constexpr milliseconds kCreateTimeout{60000};

std::unique_ptr<grpc::ClientContext> ctx(milliseconds timeout) {
  auto c = std::make_unique<grpc::ClientContext>();
  if (timeout.count() > 0) c->set_deadline(std::chrono::system_clock::now() + timeout);
  return c;
}

Status check(const grpc::Status& st, const std::string& call) {
  if (st.ok()) return {};
  return fail(sandbox::error_from_grpc(st, call));
}

agent::Stdio to_proto(StdioMode m) {
  agent::Stdio s;
  s.set_terminal(m.terminal);
  s.set_stdin(m.stdin);
  return s;
}

agent::ProcessRequest proc_req(const ProcessRef& p) {
  agent::ProcessRequest r;
  r.set_container_id(p.container_id);
  r.set_exec_id(p.exec_id);
  return r;
}

}  // namespace

Status AgentGuest::create_container(const std::string& id, const std::string& spec_json,
                                    StdioMode stdio, const std::vector<GuestMount>& mounts) {
  agent::CreateContainerRequest req;
  req.set_container_id(id);
  req.set_oci_spec_json(spec_json);
  *req.mutable_stdio() = to_proto(stdio);
  for (const auto& m : mounts) {
    auto* pm = req.add_extra_mounts();
    pm->set_destination(m.destination);
    pm->set_type(m.type);
    pm->set_source(m.source);
    for (const auto& o : m.options) pm->add_options(o);
  }
  agent::Empty out;
  auto c = ctx(kCreateTimeout);
  return check(client_.stub().CreateContainer(c.get(), req, &out), "CreateContainer");
}

Status AgentGuest::start_container(const std::string& id) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  agent::Empty out;
  auto c = ctx(kCreateTimeout);
  return check(client_.stub().StartContainer(c.get(), req, &out), "StartContainer");
}

Status AgentGuest::remove_container(const std::string& id, uint32_t timeout_s) {
  agent::RemoveContainerRequest req;
  req.set_container_id(id);
  req.set_timeout_s(timeout_s);
  agent::Empty out;
  auto c = ctx(kCallTimeout + milliseconds(timeout_s * 1000));
  return check(client_.stub().RemoveContainer(c.get(), req, &out), "RemoveContainer");
}

Status AgentGuest::exec_process(const ProcessRef& p, const std::string& process_json,
                                StdioMode stdio) {
  agent::ExecProcessRequest req;
  req.set_container_id(p.container_id);
  req.set_exec_id(p.exec_id);
  req.set_oci_process_json(process_json);
  *req.mutable_stdio() = to_proto(stdio);
  agent::Empty out;
  auto c = ctx(kCreateTimeout);
  return check(client_.stub().ExecProcess(c.get(), req, &out), "ExecProcess");
}

Status AgentGuest::signal(const ProcessRef& p, int sig, bool all) {
  agent::SignalProcessRequest req;
  req.set_container_id(p.container_id);
  req.set_exec_id(p.exec_id);
  req.set_signal(static_cast<uint32_t>(sig));
  req.set_all(all);
  agent::Empty out;
  auto c = ctx(kCallTimeout);
  return check(client_.stub().SignalProcess(c.get(), req, &out), "SignalProcess");
}

Result<ExitStatus> AgentGuest::wait(const ProcessRef& p) {
  agent::WaitProcessResponse out;
  auto c = ctx(milliseconds(0));
  HULL_TRY(check(client_.stub().WaitProcess(c.get(), proc_req(p), &out), "WaitProcess"));
  ExitStatus s;
  s.code = out.exit_status();
  s.signaled = out.signaled();
  s.signal = static_cast<int>(out.signal());
  if (s.signaled && (s.signal < 1 || s.signal > 64)) {
    return fail(Errc::GuestProtocol,
                "agent WaitProcess: signal " + std::to_string(s.signal) + " is out of range");
  }
  if (s.code < 0 || s.code > 255) {
    return fail(Errc::GuestProtocol,
                "agent WaitProcess: exit status " + std::to_string(s.code) + " is out of range");
  }
  return s;
}

Result<size_t> AgentGuest::write_stdin(const ProcessRef& p, std::string_view data) {
  agent::WriteStdinRequest req;
  req.set_container_id(p.container_id);
  req.set_exec_id(p.exec_id);
  req.set_data(std::string(data.substr(0, agent::kMaxIoChunkBytes)));
  agent::WriteStdinResponse out;
  auto c = ctx(kCallTimeout);
  HULL_TRY(check(client_.stub().WriteStdin(c.get(), req, &out), "WriteStdin"));
  if (out.written() > req.data().size()) {
    return fail(Errc::GuestProtocol, "agent WriteStdin: wrote more than it was given");
  }
  return static_cast<size_t>(out.written());
}

Status AgentGuest::close_stdin(const ProcessRef& p) {
  agent::Empty out;
  auto c = ctx(kCallTimeout);
  return check(client_.stub().CloseStdin(c.get(), proc_req(p), &out), "CloseStdin");
}

Status AgentGuest::read_output(const ProcessRef& p, Stream s, const ChunkSink& sink) {
  auto c = ctx(milliseconds(0));
  auto req = proc_req(p);
  auto reader = s == Stream::Stdout ? client_.stub().ReadStdout(c.get(), req)
                                    : client_.stub().ReadStderr(c.get(), req);
  agent::IoChunk chunk;
  while (reader->Read(&chunk)) {
    if (!sink(chunk.data())) {
      c->TryCancel();
      break;
    }
  }
  grpc::Status st = reader->Finish();
  if (st.error_code() == grpc::StatusCode::CANCELLED) return {};
  return check(st, s == Stream::Stdout ? "ReadStdout" : "ReadStderr");
}

Status AgentGuest::resize(const ProcessRef& p, uint32_t rows, uint32_t cols) {
  agent::ResizeTtyRequest req;
  req.set_container_id(p.container_id);
  req.set_exec_id(p.exec_id);
  req.set_rows(rows);
  req.set_cols(cols);
  agent::Empty out;
  auto c = ctx(kCallTimeout);
  return check(client_.stub().ResizeTty(c.get(), req, &out), "ResizeTty");
}

Result<std::vector<GuestProcessInfo>> AgentGuest::list_processes(const std::string& id) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  agent::ListProcessesResponse out;
  auto c = ctx(kCallTimeout);
  HULL_TRY(check(client_.stub().ListProcesses(c.get(), req, &out), "ListProcesses"));
  std::vector<GuestProcessInfo> ps;
  for (const auto& pi : out.processes()) {
    GuestProcessInfo g{pi.pid(), pi.ppid(), pi.uid(), pi.comm(), {}};
    for (const auto& a : pi.args()) g.args.push_back(a);
    ps.push_back(std::move(g));
  }
  return ps;
}

Status AgentGuest::pause(const std::string& id) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  agent::Empty out;
  auto c = ctx(kCallTimeout);
  return check(client_.stub().PauseContainer(c.get(), req, &out), "PauseContainer");
}

Status AgentGuest::resume(const std::string& id) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  agent::Empty out;
  auto c = ctx(kCallTimeout);
  return check(client_.stub().ResumeContainer(c.get(), req, &out), "ResumeContainer");
}

Status AgentGuest::update(const std::string& id, const std::string& resources_json) {
  agent::UpdateContainerRequest req;
  req.set_container_id(id);
  req.set_resources_json(resources_json);
  agent::Empty out;
  auto c = ctx(kCallTimeout);
  return check(client_.stub().UpdateContainer(c.get(), req, &out), "UpdateContainer");
}

Result<GuestStats> AgentGuest::stats(const std::string& id) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  agent::StatsContainerResponse out;
  auto c = ctx(kCallTimeout);
  HULL_TRY(check(client_.stub().StatsContainer(c.get(), req, &out), "StatsContainer"));
  const auto& g = out.cgroup();
  return GuestStats{g.cpu_usage_usec(),      g.cpu_user_usec(),  g.cpu_system_usec(),
                    g.memory_current(),      g.memory_max(),     g.memory_swap_current(),
                    g.pids_current(),        g.pids_max(),       g.io_read_bytes(),
                    g.io_write_bytes(),      g.oom_kills()};
}

}  // namespace hull::container
