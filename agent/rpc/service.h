// The agent's gRPC service. service.cc answers the sandbox-level calls
// (health, guest details, CreateSandbox, DestroySandbox, the shared-file
// diagnostic); container_service.cc answers the container calls through the
// ContainerRegistry (containers.h); network.cc answers the network calls
// through agent/net (rtnetlink, the DNS relay).
//
// Threads: unary calls run on gRPC's sync-server threads (they are short:
// the engine's handshakes, cgroup files). The calls that wait for as long as a
// process lives (WaitProcess, ReadStdout, ReadStderr, OomEvents) are async-API
// calls on the call queue (call_queue.h) and hold no thread while waiting: an
// exit status from the reaper, or the io loop (io_loop.h) finding output,
// moves them on. (Not the callback API: its threads wake 10 times a second.)
//
// Container calls need PID 1's reaper (ServiceOptions::reaper): without it
// (host tests of the service alone) they answer UNIMPLEMENTED.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "agent.grpc.pb.h"
#include "agent/init/reaper.h"
#include "agent/net/dns_relay.h"
#include "agent/rpc/call_queue.h"
#include "agent/rpc/containers.h"
#include "agent/rpc/io_loop.h"
#include "agent/rpc/oom.h"
#include "common/error.h"

namespace hull::agent::rpc {

struct ServiceOptions {
  uint64_t start_boottime_ns = 0;    // when the agent's main() began (CLOCK_BOOTTIME)
  std::string shared_dir;            // guest mount point of the host's shared/ directory
  std::function<void()> on_destroy;  // DestroySandbox was answered OK: begin power-off
  init::Reaper* reaper = nullptr;    // PID 1's reaper; null: no container calls
};

using AgentServiceBase = Agent::WithAsyncMethod_WaitProcess<Agent::WithAsyncMethod_ReadStdout<
    Agent::WithAsyncMethod_ReadStderr<Agent::WithAsyncMethod_OomEvents<Agent::Service>>>>;

class AgentService final : public AgentServiceBase {
 public:
  // Starts the io loop and the OOM monitor when opts.reaper is set.
  static Result<std::unique_ptr<AgentService>> create(ServiceOptions opts);
  ~AgentService() override;

  // Serves WaitProcess, ReadStdout, ReadStderr and OomEvents on `queue` (once
  // the server is built, before queue.start()).
  void serve_long_calls(CallQueue& queue);

  // When the server started serving (CLOCK_BOOTTIME), reported by GetGuestDetails.
  void set_ready_boottime_ns(uint64_t ns) { ready_boottime_ns_.store(ns); }

  // Sandbox (service.cc).
  grpc::Status Health(grpc::ServerContext*, const HealthRequest*, HealthResponse*) override;
  grpc::Status GetGuestDetails(grpc::ServerContext*, const GuestDetailsRequest*,
                               GuestDetailsResponse*) override;
  grpc::Status CreateSandbox(grpc::ServerContext*, const CreateSandboxRequest*,
                             CreateSandboxResponse*) override;
  grpc::Status DestroySandbox(grpc::ServerContext*, const DestroySandboxRequest*,
                              DestroySandboxResponse*) override;
  grpc::Status ReadSharedFile(grpc::ServerContext*, const ReadSharedFileRequest*,
                              ReadSharedFileResponse*) override;

  // Containers (container_service.cc).
  grpc::Status CreateContainer(grpc::ServerContext*, const CreateContainerRequest*,
                               Empty*) override;
  grpc::Status StartContainer(grpc::ServerContext*, const ContainerRequest*, Empty*) override;
  grpc::Status RemoveContainer(grpc::ServerContext*, const RemoveContainerRequest*,
                               Empty*) override;
  grpc::Status ExecProcess(grpc::ServerContext*, const ExecProcessRequest*, Empty*) override;
  grpc::Status SignalProcess(grpc::ServerContext*, const SignalProcessRequest*, Empty*) override;
  grpc::Status WriteStdin(grpc::ServerContext*, const WriteStdinRequest*,
                          WriteStdinResponse*) override;
  grpc::Status CloseStdin(grpc::ServerContext*, const ProcessRequest*, Empty*) override;
  grpc::Status ResizeTty(grpc::ServerContext*, const ResizeTtyRequest*, Empty*) override;
  grpc::Status ListProcesses(grpc::ServerContext*, const ContainerRequest*,
                             ListProcessesResponse*) override;
  grpc::Status StatsContainer(grpc::ServerContext*, const ContainerRequest*,
                              StatsContainerResponse*) override;
  grpc::Status PauseContainer(grpc::ServerContext*, const ContainerRequest*, Empty*) override;
  grpc::Status ResumeContainer(grpc::ServerContext*, const ContainerRequest*, Empty*) override;
  grpc::Status UpdateContainer(grpc::ServerContext*, const UpdateContainerRequest*,
                               Empty*) override;

  // Network (network.cc); one network call at a time.
  grpc::Status UpdateInterface(grpc::ServerContext*, const UpdateInterfaceRequest*,
                               Interface*) override;
  grpc::Status UpdateRoutes(grpc::ServerContext*, const UpdateRoutesRequest*, Routes*) override;
  grpc::Status ListInterfaces(grpc::ServerContext*, const Empty*, Interfaces*) override;
  grpc::Status ListRoutes(grpc::ServerContext*, const Empty*, Routes*) override;
  grpc::Status AddNeighbors(grpc::ServerContext*, const AddNeighborsRequest*, Empty*) override;
  grpc::Status ListNeighbors(grpc::ServerContext*, const Empty*, Neighbors*) override;
  grpc::Status StartDnsRelay(grpc::ServerContext*, const StartDnsRelayRequest*, Empty*) override;

  // Kills every container and ends the streams that would otherwise keep the
  // server's shutdown waiting. Call before grpc::Server::Shutdown.
  void close_streams();

 private:
  explicit AgentService(ServiceOptions opts) : opts_(std::move(opts)) {}
  // The registry, or Errc::Unsupported without a reaper.
  Result<ContainerRegistry*> containers();
  // The long-lived calls (container_service.cc), on the call queue's thread.
  UnaryReactor* wait_process(const ProcessRequest& req, WaitProcessResponse* reply);
  StreamReactor<IoChunk>* read_output(const ProcessRequest& req, bool stderr_stream);
  StreamReactor<OomEvent>* oom_events();

  ServiceOptions opts_;
  std::atomic<uint64_t> ready_boottime_ns_{0};
  std::mutex net_mu_;
  std::unique_ptr<net::DnsRelay> dns_relay_;  // guarded by net_mu_
  uint32_t dns_relay_port_ = 0;               // guarded by net_mu_
  // Declaration order: the registry goes first, the loop last.
  std::unique_ptr<IoLoop> loop_;
  std::unique_ptr<OomMonitor> oom_;
  std::unique_ptr<ContainerRegistry> registry_;
};

}  // namespace hull::agent::rpc
