// AgentClient: the host's end of the agent API. Connects through the hybrid
// vsock socket ("CONNECT 1024\n", reply read one byte at a time, see
// runtime/vsock/hybrid_client.h) and hands the fd to a gRPC channel.
//
// The guest is untrusted: the channel's receive limit caps every reply at
// agent::kMaxMessageBytes and every call carries a deadline. A fd channel
// never reconnects; after an error that says the transport is gone
// (Errc::NotRunning), connect again.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "agent.grpc.pb.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "runtime/sandbox/agent_reply.h"

namespace hull::sandbox {

// Default deadline of one agent call.
inline constexpr std::chrono::milliseconds kAgentCallTimeout{5000};
// DestroySandbox answers once the containers are dead and nothing written is
// left in the guest's page cache: a sync of a large dirty cache takes a while.
inline constexpr std::chrono::milliseconds kDestroySandboxTimeout{10000};

class AgentClient {
 public:
  // Dials the agent through `uds_path` (the sandbox's vsock.sock), retrying
  // while the guest is not listening yet, until `deadline`.
  static Result<AgentClient> connect(const std::string& uds_path,
                                     std::chrono::steady_clock::time_point deadline);
  // Wraps an already connected stream (tests use a socketpair).
  static AgentClient from_fd(UniqueFd fd);

  Status health(std::chrono::milliseconds timeout = kAgentCallTimeout);
  Result<agent::GuestDetailsResponse> guest_details(
      std::chrono::milliseconds timeout = kAgentCallTimeout);
  Status destroy_sandbox(std::chrono::milliseconds timeout = kAgentCallTimeout);
  Result<agent::ReadSharedFileResponse> read_shared_file(
      const std::string& path, uint32_t max_bytes,
      std::chrono::milliseconds timeout = kAgentCallTimeout);

  // Network: configures one guest interface (found by its MAC) and the
  // guest's routes; the replies pass parse_updated_interface / parse_routes.
  Result<agent::Interface> update_interface(const agent::Interface& iface,
                                            std::chrono::milliseconds timeout = kAgentCallTimeout);
  Result<agent::Routes> update_routes(const agent::Routes& routes,
                                      std::chrono::milliseconds timeout = kAgentCallTimeout);
  Status add_neighbours(const agent::Neighbors& neighbours,
                        std::chrono::milliseconds timeout = kAgentCallTimeout);
  Result<agent::Interfaces> list_interfaces(std::chrono::milliseconds timeout = kAgentCallTimeout);
  Result<agent::Routes> list_routes(std::chrono::milliseconds timeout = kAgentCallTimeout);

  agent::Agent::Stub& stub() { return *stub_; }

 private:
  explicit AgentClient(std::unique_ptr<agent::Agent::Stub> stub) : stub_(std::move(stub)) {}
  std::unique_ptr<agent::Agent::Stub> stub_;
};

// Maps a failed gRPC status to hull's error: the Errc the agent named in the
// status details, else by code (agent/proto/error_codec.h): DEADLINE_EXCEEDED
// -> Timeout, UNAVAILABLE/CANCELLED -> NotRunning, NOT_FOUND -> NotFound,
// INVALID_ARGUMENT -> Invalid, UNIMPLEMENTED -> Unsupported, anything else ->
// GuestProtocol. The agent's text is made printable and capped (agent_error).
Error error_from_grpc(const grpc::Status& st, const std::string& call);

// A unary method of the agent's stub, e.g. &agent::Agent::Stub::WaitProcess.
template <class Request, class Reply>
using AgentMethod = grpc::Status (agent::Agent::Stub::*)(grpc::ClientContext*, const Request&,
                                                         Reply*);

// One unary call with a deadline: the reply, or the failed status as hull's
// Error naming `call`. The reply is still the guest's word: callers pass it
// through agent_reply.h before using its values.
template <class Request, class Reply>
Result<Reply> call_agent(agent::Agent::Stub& stub, AgentMethod<Request, Reply> method,
                         std::string_view call, const Request& req,
                         std::chrono::system_clock::time_point deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  Reply reply;
  grpc::Status st = (stub.*method)(&ctx, req, &reply);
  if (!st.ok()) return fail(agent_error(st, call));
  return reply;
}

template <class Request, class Reply>
Result<Reply> call_agent(agent::Agent::Stub& stub, AgentMethod<Request, Reply> method,
                         std::string_view call, const Request& req,
                         std::chrono::milliseconds timeout) {
  return call_agent(stub, method, call, req, std::chrono::system_clock::now() + timeout);
}

}  // namespace hull::sandbox
