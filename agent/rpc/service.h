// The agent's gRPC service: the calls this layer answers itself (health,
// guest details, DestroySandbox, the shared-file diagnostic). Container calls
// are answered by the container engine when it is wired in; until then gRPC
// answers them UNIMPLEMENTED.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent.grpc.pb.h"

namespace hull::agent::rpc {

struct ServiceOptions {
  uint64_t start_boottime_ns = 0;    // when the agent's main() began (CLOCK_BOOTTIME)
  uint64_t ready_boottime_ns = 0;    // when the service started accepting
  std::string shared_dir;            // guest mount point of the host's shared/ directory
  std::function<void()> on_destroy;  // DestroySandbox was answered OK: begin power-off
};

class AgentService final : public Agent::Service {
 public:
  explicit AgentService(ServiceOptions opts) : opts_(std::move(opts)) {}

  grpc::Status Health(grpc::ServerContext*, const HealthRequest*, HealthResponse*) override;
  grpc::Status GetGuestDetails(grpc::ServerContext*, const GuestDetailsRequest*,
                               GuestDetailsResponse*) override;
  grpc::Status DestroySandbox(grpc::ServerContext*, const DestroySandboxRequest*,
                              DestroySandboxResponse*) override;
  grpc::Status ReadSharedFile(grpc::ServerContext*, const ReadSharedFileRequest*,
                              ReadSharedFileResponse*) override;

 private:
  ServiceOptions opts_;
};

}  // namespace hull::agent::rpc
