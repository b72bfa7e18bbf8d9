#include "runtime/sandbox/container_client_impl.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "agent/proto/constants.h"

namespace hull::sandbox {

namespace {

using Stub = agent::Agent::Stub;

void set_stdio(agent::Stdio* s, StdioMode m) {
  s->set_terminal(m.terminal);
  s->set_stdin(m.stdin);
}

agent::ContainerRequest container_request(const std::string& id) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  return req;
}

agent::ProcessRequest process_request(const std::string& id, const std::string& exec_id) {
  agent::ProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  return req;
}

// A call whose reply carries nothing (agent::Empty or an empty message).
template <class Request, class Reply>
Status call_status(Stub& stub, AgentMethod<Request, Reply> method, std::string_view call,
                   const Request& req, std::chrono::milliseconds timeout) {
  HULL_TRY(call_agent(stub, method, call, req, timeout));
  return {};
}

// call_agent, ended by `cancel` (cancel.h) when it is given and cancelled.
template <class Request, class Reply>
Result<Reply> call_cancellable(Stub& stub, AgentMethod<Request, Reply> method,
                               std::string_view call, const Request& req,
                               std::chrono::system_clock::time_point deadline, Canceller* cancel) {
  if (cancel == nullptr) return call_agent(stub, method, call, req, deadline);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  CancelScope scope(cancel, [&ctx] { ctx.TryCancel(); });
  if (!scope) return fail(cancelled_error(call));
  Reply reply;
  grpc::Status st = (stub.*method)(&ctx, req, &reply);
  if (st.ok()) return reply;
  if (cancel->cancelled() && st.error_code() == grpc::StatusCode::CANCELLED) {
    return fail(cancelled_error(call));
  }
  return fail(agent_error(st, call));
}

// The OomEvents stream of one sandbox (container_client.h: OomEventReader).
class GrpcOomEventReader final : public OomEventReader {
 public:
  GrpcOomEventReader(Stub& stub, std::chrono::milliseconds timeout) {
    ctx_.set_deadline(std::chrono::system_clock::now() + timeout);
    reader_ = stub.OomEvents(&ctx_, agent::OomEventsRequest());
  }
  ~GrpcOomEventReader() override {
    if (reader_ && !done_) {
      ctx_.TryCancel();
      (void)reader_->Finish();
    }
  }
  bool opened() const { return reader_ != nullptr; }

  Result<std::optional<std::string>> next() override {
    if (done_) return std::optional<std::string>();
    agent::OomEvent ev;
    if (reader_->Read(&ev)) {
      HULL_ASSIGN(id, parse_oom_event(ev));
      return std::optional<std::string>(std::move(id));
    }
    done_ = true;
    grpc::Status st = reader_->Finish();
    if (!st.ok()) return fail(agent_error(st, "OomEvents"));
    return std::optional<std::string>();
  }
  void cancel() override { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<agent::OomEvent>> reader_;
  bool done_ = false;
};

}  // namespace

Status GrpcContainerClient::create_sandbox(const agent::CreateSandboxRequest& req,
                                           std::chrono::milliseconds timeout) {
  return call_status(*stub_, &Stub::CreateSandbox, "CreateSandbox", req, timeout);
}

Status GrpcContainerClient::create(const std::string& id, std::string_view spec_json,
                                   StdioMode stdio, std::string_view bundle,
                                   std::chrono::milliseconds timeout) {
  agent::CreateContainerRequest req;
  req.set_container_id(id);
  req.set_oci_spec_json(std::string(spec_json));
  req.set_bundle(std::string(bundle));
  set_stdio(req.mutable_stdio(), stdio);
  return call_status(*stub_, &Stub::CreateContainer, "CreateContainer", req, timeout);
}

Status GrpcContainerClient::start(const std::string& id, std::chrono::milliseconds timeout) {
  return call_status(*stub_, &Stub::StartContainer, "StartContainer", container_request(id),
                     timeout);
}

Status GrpcContainerClient::remove(const std::string& id, uint32_t grace_s,
                                   std::chrono::milliseconds timeout) {
  agent::RemoveContainerRequest req;
  req.set_container_id(id);
  req.set_timeout_s(grace_s);
  return call_status(*stub_, &Stub::RemoveContainer, "RemoveContainer", req,
                     timeout + std::chrono::seconds(grace_s));
}

Status GrpcContainerClient::exec(const std::string& id, const std::string& exec_id,
                                 std::string_view process_json, StdioMode stdio,
                                 std::chrono::milliseconds timeout, std::string_view sub_cgroup) {
  agent::ExecProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_oci_process_json(std::string(process_json));
  req.set_cgroup(std::string(sub_cgroup));
  set_stdio(req.mutable_stdio(), stdio);
  return call_status(*stub_, &Stub::ExecProcess, "ExecProcess", req, timeout);
}

Status GrpcContainerClient::signal(const std::string& id, const std::string& exec_id, int sig,
                                   bool all, std::chrono::milliseconds timeout) {
  if (sig < 0) return fail(Errc::Invalid, "signal " + std::to_string(sig));
  agent::SignalProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_signal(static_cast<uint32_t>(sig));
  req.set_all(all);
  return call_status(*stub_, &Stub::SignalProcess, "SignalProcess", req, timeout);
}

Result<ExitStatus> GrpcContainerClient::wait(const std::string& id, const std::string& exec_id,
                                             std::chrono::milliseconds timeout, Canceller* cancel) {
  HULL_ASSIGN(
      out, call_cancellable(*stub_, &Stub::WaitProcess, "WaitProcess", process_request(id, exec_id),
                            std::chrono::system_clock::now() + timeout, cancel));
  return parse_wait(out);
}

Status GrpcContainerClient::write_stdin(const std::string& id, const std::string& exec_id,
                                        std::span<const char> data,
                                        std::chrono::milliseconds timeout, Canceller* cancel) {
  auto deadline = std::chrono::system_clock::now() + timeout;
  size_t off = 0;
  do {
    size_t n = std::min(data.size() - off, agent::kMaxIoChunkBytes);
    agent::WriteStdinRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec_id);
    req.set_data(data.data() + off, n);
    HULL_ASSIGN(out,
                call_cancellable(*stub_, &Stub::WriteStdin, "WriteStdin", req, deadline, cancel));
    HULL_ASSIGN(written, parse_written(out, n));
    off += written;
    if (written == 0 && std::chrono::system_clock::now() >= deadline) {
      return fail(Errc::Timeout, "WriteStdin: the process takes no input");
    }
  } while (off < data.size());
  return {};
}

Status GrpcContainerClient::close_stdin(const std::string& id, const std::string& exec_id,
                                        std::chrono::milliseconds timeout, Canceller* cancel) {
  HULL_TRY(call_cancellable(*stub_, &Stub::CloseStdin, "CloseStdin", process_request(id, exec_id),
                            std::chrono::system_clock::now() + timeout, cancel));
  return {};
}

Status GrpcContainerClient::resize_tty(const std::string& id, const std::string& exec_id,
                                       uint16_t rows, uint16_t cols,
                                       std::chrono::milliseconds timeout) {
  agent::ResizeTtyRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_rows(rows);
  req.set_cols(cols);
  return call_status(*stub_, &Stub::ResizeTty, "ResizeTty", req, timeout);
}

Status GrpcContainerClient::read_output(const std::string& id, const std::string& exec_id,
                                        OutputStream which, const Sink& sink,
                                        std::chrono::milliseconds timeout, Canceller* cancel) {
  agent::ProcessRequest req = process_request(id, exec_id);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  const char* call = which == OutputStream::Stdout ? "ReadStdout" : "ReadStderr";
  CancelScope scope(cancel, [&ctx] { ctx.TryCancel(); });
  if (!scope) return fail(cancelled_error(call));
  auto reader =
      which == OutputStream::Stdout ? stub_->ReadStdout(&ctx, req) : stub_->ReadStderr(&ctx, req);
  agent::IoChunk chunk;
  Status result;
  while (reader->Read(&chunk)) {
    result = check_io_chunk(chunk, call);
    if (result) result = sink(chunk.data());
    if (!result) break;
  }
  if (!result) {
    ctx.TryCancel();
    (void)reader->Finish();
    return result;
  }
  if (grpc::Status st = reader->Finish(); !st.ok()) {
    if (cancel && cancel->cancelled() && st.error_code() == grpc::StatusCode::CANCELLED) {
      return fail(cancelled_error(call));
    }
    return fail(agent_error(st, call));
  }
  return {};
}

Result<std::vector<agent::ProcessInfo>> GrpcContainerClient::list_processes(
    const std::string& id, std::chrono::milliseconds timeout, ProcessListExtras* extras) {
  HULL_ASSIGN(out, call_agent(*stub_, &Stub::ListProcesses, "ListProcesses", container_request(id),
                              timeout));
  HULL_ASSIGN(more, parse_process_list_extras(out));
  HULL_ASSIGN(ps, parse_processes(std::move(out)));
  if (extras) *extras = std::move(more);
  return ps;
}

Result<agent::CgroupStats> GrpcContainerClient::stats(const std::string& id,
                                                      std::chrono::milliseconds timeout) {
  HULL_ASSIGN(out, call_agent(*stub_, &Stub::StatsContainer, "StatsContainer",
                              container_request(id), timeout));
  return parse_stats(out);
}

Status GrpcContainerClient::pause(const std::string& id, std::chrono::milliseconds timeout) {
  return call_status(*stub_, &Stub::PauseContainer, "PauseContainer", container_request(id),
                     timeout);
}

Status GrpcContainerClient::resume(const std::string& id, std::chrono::milliseconds timeout) {
  return call_status(*stub_, &Stub::ResumeContainer, "ResumeContainer", container_request(id),
                     timeout);
}

Status GrpcContainerClient::update(const std::string& id, std::string_view resources_json,
                                   std::chrono::milliseconds timeout) {
  agent::UpdateContainerRequest req;
  req.set_container_id(id);
  req.set_resources_json(std::string(resources_json));
  return call_status(*stub_, &Stub::UpdateContainer, "UpdateContainer", req, timeout);
}

Result<std::unique_ptr<OomEventReader>> GrpcContainerClient::oom_events(
    std::chrono::milliseconds timeout) {
  auto r = std::make_unique<GrpcOomEventReader>(*stub_, timeout);
  if (!r->opened()) return fail(Errc::Internal, "OomEvents: no stream");
  return r;
}

}  // namespace hull::sandbox
