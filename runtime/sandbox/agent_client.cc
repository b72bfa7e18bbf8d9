#include "runtime/sandbox/agent_client.h"

#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>

#include "agent/proto/constants.h"
#include "agent/proto/error_codec.h"
#include "runtime/vsock/hybrid_client.h"

namespace hull::sandbox {

namespace {

std::unique_ptr<grpc::ClientContext> context_with(std::chrono::milliseconds timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  return ctx;
}

}  // namespace

Error error_from_grpc(const grpc::Status& st, const std::string& call) {
  // The agent names the Errc in the status details (agent/proto/error_codec.h).
  Errc code = agent::errc_for_status(st);
  // The message comes from the guest: cap what we carry of it.
  std::string msg = st.error_message().substr(0, 512);
  return Error{code, 0,
               "agent " + call + ": " + msg + " (gRPC code " +
                   std::to_string(static_cast<int>(st.error_code())) + ")"};
}

AgentClient AgentClient::from_fd(UniqueFd fd) {
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, agent::kAuthority);
  args.SetMaxReceiveMessageSize(agent::kMaxMessageBytes);
  args.SetMaxSendMessageSize(agent::kMaxMessageBytes);
  // gRPC owns the fd from here and closes it with the transport.
  auto channel = grpc::CreateCustomInsecureChannelFromFd(agent::kAuthority, fd.release(), args);
  return AgentClient(agent::Agent::NewStub(channel));
}

Result<AgentClient> AgentClient::connect(const std::string& uds_path,
                                         std::chrono::steady_clock::time_point deadline) {
  HULL_ASSIGN(fd, vsock::connect_hybrid(uds_path, agent::kAgentVsockPort, deadline));
  return from_fd(std::move(fd));
}

Status AgentClient::health(std::chrono::milliseconds timeout) {
  auto ctx = context_with(timeout);
  agent::HealthResponse reply;
  grpc::Status st = stub_->Health(ctx.get(), agent::HealthRequest(), &reply);
  if (!st.ok()) return fail(error_from_grpc(st, "Health"));
  if (reply.status() != agent::HealthResponse::SERVING) {
    return fail(Errc::NotRunning, "agent Health: not serving");
  }
  return {};
}

Result<agent::GuestDetailsResponse> AgentClient::guest_details(std::chrono::milliseconds timeout) {
  auto ctx = context_with(timeout);
  agent::GuestDetailsResponse reply;
  grpc::Status st = stub_->GetGuestDetails(ctx.get(), agent::GuestDetailsRequest(), &reply);
  if (!st.ok()) return fail(error_from_grpc(st, "GetGuestDetails"));
  return reply;
}

Status AgentClient::destroy_sandbox(std::chrono::milliseconds timeout) {
  auto ctx = context_with(timeout);
  agent::DestroySandboxResponse reply;
  grpc::Status st = stub_->DestroySandbox(ctx.get(), agent::DestroySandboxRequest(), &reply);
  if (!st.ok()) return fail(error_from_grpc(st, "DestroySandbox"));
  return {};
}

Result<agent::ReadSharedFileResponse> AgentClient::read_shared_file(
    const std::string& path, uint32_t max_bytes, std::chrono::milliseconds timeout) {
  auto ctx = context_with(timeout);
  agent::ReadSharedFileRequest req;
  req.set_path(path);
  req.set_max_bytes(max_bytes);
  agent::ReadSharedFileResponse reply;
  grpc::Status st = stub_->ReadSharedFile(ctx.get(), req, &reply);
  if (!st.ok()) return fail(error_from_grpc(st, "ReadSharedFile"));
  if (reply.data().size() > max_bytes) {
    return fail(Errc::GuestProtocol,
                "agent ReadSharedFile: " + std::to_string(reply.data().size()) +
                    " bytes returned, asked for at most " + std::to_string(max_bytes));
  }
  return reply;
}

}  // namespace hull::sandbox
