// GrpcContainerClient: ContainerClient (container_client.h) over an
// AgentClient's gRPC channel, one instance per sandbox. Every call carries a
// deadline (call_agent, agent_client.h); replies are bounded by the channel's
// receive limit and every value in them is checked by agent_reply.h before it
// is returned.
//
// The overrides repeat the interface's default arguments (the same named
// constants), so that a caller holding this type gets what a caller holding
// the interface gets.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent.grpc.pb.h"
#include "common/error.h"
#include "runtime/sandbox/agent_client.h"
#include "runtime/sandbox/container_client.h"

namespace hull::sandbox {

class GrpcContainerClient final : public ContainerClient {
 public:
  explicit GrpcContainerClient(agent::Agent::Stub& stub) : stub_(&stub) {}
  explicit GrpcContainerClient(AgentClient& agent) : stub_(&agent.stub()) {}

  // CreateSandbox: a sandbox-wide call, not a container's (tests use it).
  Status create_sandbox(const agent::CreateSandboxRequest& req,
                        std::chrono::milliseconds timeout = kAgentCallTimeout);

  Status create(const std::string& id, std::string_view spec_json, StdioMode stdio,
                std::string_view bundle = {},
                std::chrono::milliseconds timeout = kContainerCallTimeout) override;
  Status start(const std::string& id,
               std::chrono::milliseconds timeout = kContainerCallTimeout) override;
  Status remove(const std::string& id, uint32_t grace_s = 0,
                std::chrono::milliseconds timeout = kContainerCallTimeout) override;
  Status exec(const std::string& id, const std::string& exec_id, std::string_view process_json,
              StdioMode stdio, std::chrono::milliseconds timeout = kContainerCallTimeout,
              std::string_view sub_cgroup = {}) override;
  Status signal(const std::string& id, const std::string& exec_id, int sig, bool all = false,
                std::chrono::milliseconds timeout = kAgentCallTimeout) override;
  Result<ExitStatus> wait(const std::string& id, const std::string& exec_id,
                          std::chrono::milliseconds timeout = kWaitForever,
                          Canceller* cancel = nullptr) override;
  Status write_stdin(const std::string& id, const std::string& exec_id, std::span<const char> data,
                     std::chrono::milliseconds timeout = kContainerCallTimeout,
                     Canceller* cancel = nullptr) override;
  Status close_stdin(const std::string& id, const std::string& exec_id,
                     std::chrono::milliseconds timeout = kAgentCallTimeout,
                     Canceller* cancel = nullptr) override;
  Status resize_tty(const std::string& id, const std::string& exec_id, uint16_t rows, uint16_t cols,
                    std::chrono::milliseconds timeout = kAgentCallTimeout) override;
  Status read_output(const std::string& id, const std::string& exec_id, OutputStream which,
                     const Sink& sink, std::chrono::milliseconds timeout = kWaitForever,
                     Canceller* cancel = nullptr) override;
  Result<std::vector<agent::ProcessInfo>> list_processes(
      const std::string& id, std::chrono::milliseconds timeout = kAgentCallTimeout,
      ProcessListExtras* extras = nullptr) override;
  Result<agent::CgroupStats> stats(const std::string& id,
                                   std::chrono::milliseconds timeout = kAgentCallTimeout) override;
  Status pause(const std::string& id,
               std::chrono::milliseconds timeout = kAgentCallTimeout) override;
  Status resume(const std::string& id,
                std::chrono::milliseconds timeout = kAgentCallTimeout) override;
  Status update(const std::string& id, std::string_view resources_json,
                std::chrono::milliseconds timeout = kAgentCallTimeout) override;

  // The stream holds its own call: it may outlive this client (not the
  // AgentClient whose channel it uses).
  Result<std::unique_ptr<OomEventReader>> oom_events(
      std::chrono::milliseconds timeout = kWaitForever) override;

 private:
  agent::Agent::Stub* stub_;
};

}  // namespace hull::sandbox
