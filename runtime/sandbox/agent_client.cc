#include "runtime/sandbox/agent_client.h"

#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>

#include "agent/proto/constants.h"
#include "runtime/vsock/hybrid_client.h"

namespace hull::sandbox {

Error error_from_grpc(const grpc::Status& st, const std::string& call) {
  return agent_error(st, call);
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
  HULL_ASSIGN(reply, call_agent(*stub_, &agent::Agent::Stub::Health, "Health",
                                agent::HealthRequest(), timeout));
  return check_health(reply);
}

Result<agent::GuestDetailsResponse> AgentClient::guest_details(std::chrono::milliseconds timeout) {
  HULL_ASSIGN(reply, call_agent(*stub_, &agent::Agent::Stub::GetGuestDetails, "GetGuestDetails",
                                agent::GuestDetailsRequest(), timeout));
  return parse_guest_details(std::move(reply));
}

Result<agent::Interface> AgentClient::update_interface(const agent::Interface& iface,
                                                       std::chrono::milliseconds timeout) {
  agent::UpdateInterfaceRequest req;
  *req.mutable_interface() = iface;
  HULL_ASSIGN(reply, call_agent(*stub_, &agent::Agent::Stub::UpdateInterface, "UpdateInterface",
                                req, timeout));
  return parse_updated_interface(std::move(reply), iface);
}

Result<agent::Routes> AgentClient::update_routes(const agent::Routes& routes,
                                                 std::chrono::milliseconds timeout) {
  agent::UpdateRoutesRequest req;
  *req.mutable_routes() = routes;
  HULL_ASSIGN(reply,
              call_agent(*stub_, &agent::Agent::Stub::UpdateRoutes, "UpdateRoutes", req, timeout));
  return parse_routes(std::move(reply), "UpdateRoutes");
}

Status AgentClient::add_neighbours(const agent::Neighbors& neighbours,
                                   std::chrono::milliseconds timeout) {
  agent::AddNeighborsRequest req;
  *req.mutable_neighbors() = neighbours;
  HULL_TRY(call_agent(*stub_, &agent::Agent::Stub::AddNeighbors, "AddNeighbors", req, timeout));
  return {};
}

Result<agent::Interfaces> AgentClient::list_interfaces(std::chrono::milliseconds timeout) {
  HULL_ASSIGN(reply, call_agent(*stub_, &agent::Agent::Stub::ListInterfaces, "ListInterfaces",
                                agent::Empty(), timeout));
  if (reply.interfaces_size() > static_cast<int>(kMaxReplyRoutes)) {
    return fail(Errc::GuestProtocol, "agent reply ListInterfaces: " +
                                         std::to_string(reply.interfaces_size()) + " interfaces");
  }
  for (auto& i : *reply.mutable_interfaces()) {
    HULL_ASSIGN(ok, parse_interface(std::move(i), "ListInterfaces"));
    i = std::move(ok);
  }
  return reply;
}

Result<agent::Routes> AgentClient::list_routes(std::chrono::milliseconds timeout) {
  HULL_ASSIGN(reply, call_agent(*stub_, &agent::Agent::Stub::ListRoutes, "ListRoutes",
                                agent::Empty(), timeout));
  return parse_routes(std::move(reply), "ListRoutes");
}

Status AgentClient::destroy_sandbox(std::chrono::milliseconds timeout) {
  HULL_TRY(call_agent(*stub_, &agent::Agent::Stub::DestroySandbox, "DestroySandbox",
                      agent::DestroySandboxRequest(), timeout));
  return {};
}

Result<agent::ReadSharedFileResponse> AgentClient::read_shared_file(
    const std::string& path, uint32_t max_bytes, std::chrono::milliseconds timeout) {
  agent::ReadSharedFileRequest req;
  req.set_path(path);
  req.set_max_bytes(max_bytes);
  HULL_ASSIGN(reply, call_agent(*stub_, &agent::Agent::Stub::ReadSharedFile, "ReadSharedFile", req,
                                timeout));
  return parse_shared_file(std::move(reply), max_bytes);
}

}  // namespace hull::sandbox
