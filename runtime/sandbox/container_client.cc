#include "runtime/sandbox/container_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "agent/proto/constants.h"

namespace hull::sandbox {

namespace {

std::unique_ptr<grpc::ClientContext> context_with(std::chrono::milliseconds timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  return ctx;
}

Status check(const grpc::Status& st, const char* call) {
  if (!st.ok()) return fail(error_from_grpc(st, call));
  return {};
}

void set_stdio(agent::Stdio* s, StdioMode m) {
  s->set_terminal(m.terminal);
  s->set_stdin(m.stdin);
}

}  // namespace

Status ContainerClient::create_sandbox(const agent::CreateSandboxRequest& req,
                                       std::chrono::milliseconds timeout) {
  auto ctx = context_with(timeout);
  agent::CreateSandboxResponse out;
  return check(stub_->CreateSandbox(ctx.get(), req, &out), "CreateSandbox");
}

Status ContainerClient::create(const std::string& id, std::string_view spec_json, StdioMode stdio,
                               std::chrono::milliseconds timeout) {
  agent::CreateContainerRequest req;
  req.set_container_id(id);
  req.set_oci_spec_json(std::string(spec_json));
  set_stdio(req.mutable_stdio(), stdio);
  auto ctx = context_with(timeout);
  agent::Empty out;
  return check(stub_->CreateContainer(ctx.get(), req, &out), "CreateContainer");
}

Status ContainerClient::start(const std::string& id, std::chrono::milliseconds timeout) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  auto ctx = context_with(timeout);
  agent::Empty out;
  return check(stub_->StartContainer(ctx.get(), req, &out), "StartContainer");
}

Status ContainerClient::remove(const std::string& id, uint32_t grace_s,
                               std::chrono::milliseconds timeout) {
  agent::RemoveContainerRequest req;
  req.set_container_id(id);
  req.set_timeout_s(grace_s);
  auto ctx = context_with(timeout + std::chrono::seconds(grace_s));
  agent::Empty out;
  return check(stub_->RemoveContainer(ctx.get(), req, &out), "RemoveContainer");
}

Status ContainerClient::exec(const std::string& id, const std::string& exec_id,
                             std::string_view process_json, StdioMode stdio,
                             std::chrono::milliseconds timeout) {
  agent::ExecProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_oci_process_json(std::string(process_json));
  set_stdio(req.mutable_stdio(), stdio);
  auto ctx = context_with(timeout);
  agent::Empty out;
  return check(stub_->ExecProcess(ctx.get(), req, &out), "ExecProcess");
}

Status ContainerClient::signal(const std::string& id, const std::string& exec_id, int sig, bool all,
                               std::chrono::milliseconds timeout) {
  if (sig <= 0) return fail(Errc::Invalid, "signal " + std::to_string(sig));
  agent::SignalProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_signal(static_cast<uint32_t>(sig));
  req.set_all(all);
  auto ctx = context_with(timeout);
  agent::Empty out;
  return check(stub_->SignalProcess(ctx.get(), req, &out), "SignalProcess");
}

Result<ExitInfo> ContainerClient::wait(const std::string& id, const std::string& exec_id,
                                       std::chrono::milliseconds timeout) {
  agent::ProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  auto ctx = context_with(timeout);
  agent::WaitProcessResponse out;
  HULL_TRY(check(stub_->WaitProcess(ctx.get(), req, &out), "WaitProcess"));
  if (out.exit_status() < 0 || out.exit_status() > 255 || out.signal() > 64) {
    return fail(Errc::GuestProtocol, "agent WaitProcess: exit status " +
                                         std::to_string(out.exit_status()) + ", signal " +
                                         std::to_string(out.signal()) + " out of range");
  }
  return ExitInfo{out.exit_status(), out.signaled(), static_cast<int>(out.signal())};
}

Status ContainerClient::write_stdin(const std::string& id, const std::string& exec_id,
                                    std::span<const char> data, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::system_clock::now() + timeout;
  size_t off = 0;
  do {
    size_t n = std::min(data.size() - off, agent::kMaxIoChunkBytes);
    agent::WriteStdinRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec_id);
    req.set_data(data.data() + off, n);
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    agent::WriteStdinResponse out;
    HULL_TRY(check(stub_->WriteStdin(&ctx, req, &out), "WriteStdin"));
    if (out.written() > n) {
      return fail(Errc::GuestProtocol, "agent WriteStdin: wrote " + std::to_string(out.written()) +
                                           " of " + std::to_string(n) + " bytes");
    }
    off += out.written();
    if (out.written() == 0 && std::chrono::system_clock::now() >= deadline) {
      return fail(Errc::Timeout, "WriteStdin: the process takes no input");
    }
  } while (off < data.size());
  return {};
}

Status ContainerClient::close_stdin(const std::string& id, const std::string& exec_id,
                                    std::chrono::milliseconds timeout) {
  agent::ProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  auto ctx = context_with(timeout);
  agent::Empty out;
  return check(stub_->CloseStdin(ctx.get(), req, &out), "CloseStdin");
}

Status ContainerClient::resize_tty(const std::string& id, const std::string& exec_id, uint16_t rows,
                                   uint16_t cols, std::chrono::milliseconds timeout) {
  agent::ResizeTtyRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_rows(rows);
  req.set_cols(cols);
  auto ctx = context_with(timeout);
  agent::Empty out;
  return check(stub_->ResizeTty(ctx.get(), req, &out), "ResizeTty");
}

Status ContainerClient::read_output(const std::string& id, const std::string& exec_id,
                                    OutputStream which, const Sink& sink,
                                    std::chrono::milliseconds timeout) {
  agent::ProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  auto ctx = context_with(timeout);
  const char* call = which == OutputStream::Stdout ? "ReadStdout" : "ReadStderr";
  auto reader = which == OutputStream::Stdout ? stub_->ReadStdout(ctx.get(), req)
                                              : stub_->ReadStderr(ctx.get(), req);
  agent::IoChunk chunk;
  Status result;
  while (reader->Read(&chunk)) {
    if (chunk.data().size() > agent::kMaxIoChunkBytes) {
      result = fail(Errc::GuestProtocol, std::string("agent ") + call + ": a chunk of " +
                                             std::to_string(chunk.data().size()) + " bytes");
      break;
    }
    if (auto st = sink(chunk.data()); !st) {
      result = st;
      break;
    }
  }
  if (!result) {
    ctx->TryCancel();
    (void)reader->Finish();
    return result;
  }
  return check(reader->Finish(), call);
}

Result<std::vector<agent::ProcessInfo>> ContainerClient::list_processes(
    const std::string& id, std::chrono::milliseconds timeout) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  auto ctx = context_with(timeout);
  agent::ListProcessesResponse out;
  HULL_TRY(check(stub_->ListProcesses(ctx.get(), req, &out), "ListProcesses"));
  return std::vector<agent::ProcessInfo>(out.processes().begin(), out.processes().end());
}

Result<agent::CgroupStats> ContainerClient::stats(const std::string& id,
                                                  std::chrono::milliseconds timeout) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  auto ctx = context_with(timeout);
  agent::StatsContainerResponse out;
  HULL_TRY(check(stub_->StatsContainer(ctx.get(), req, &out), "StatsContainer"));
  return out.cgroup();
}

Status ContainerClient::pause(const std::string& id, std::chrono::milliseconds timeout) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  auto ctx = context_with(timeout);
  agent::Empty out;
  return check(stub_->PauseContainer(ctx.get(), req, &out), "PauseContainer");
}

Status ContainerClient::resume(const std::string& id, std::chrono::milliseconds timeout) {
  agent::ContainerRequest req;
  req.set_container_id(id);
  auto ctx = context_with(timeout);
  agent::Empty out;
  return check(stub_->ResumeContainer(ctx.get(), req, &out), "ResumeContainer");
}

Status ContainerClient::update(const std::string& id, std::string_view resources_json,
                               std::chrono::milliseconds timeout) {
  agent::UpdateContainerRequest req;
  req.set_container_id(id);
  req.set_resources_json(std::string(resources_json));
  auto ctx = context_with(timeout);
  agent::Empty out;
  return check(stub_->UpdateContainer(ctx.get(), req, &out), "UpdateContainer");
}

Result<std::unique_ptr<OomEventReader>> OomEventReader::open(agent::Agent::Stub& stub,
                                                             std::chrono::milliseconds timeout) {
  std::unique_ptr<OomEventReader> r(new OomEventReader());
  r->ctx_.set_deadline(std::chrono::system_clock::now() + timeout);
  r->reader_ = stub.OomEvents(&r->ctx_, agent::OomEventsRequest());
  if (!r->reader_) return fail(Errc::Internal, "OomEvents: no stream");
  return r;
}

OomEventReader::~OomEventReader() {
  if (!done_) {
    ctx_.TryCancel();
    (void)reader_->Finish();
  }
}

Result<std::optional<std::string>> OomEventReader::next() {
  if (done_) return std::optional<std::string>();
  agent::OomEvent ev;
  if (reader_->Read(&ev)) return std::optional<std::string>(ev.container_id());
  done_ = true;
  grpc::Status st = reader_->Finish();
  if (!st.ok()) return fail(error_from_grpc(st, "OomEvents"));
  return std::optional<std::string>();
}

void OomEventReader::cancel() {
  ctx_.TryCancel();
}

}  // namespace hull::sandbox
