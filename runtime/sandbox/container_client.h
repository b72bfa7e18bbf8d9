// ContainerClient: typed host-side calls of the agent's container API
// (agent/proto/agent.proto), over an AgentClient's channel. The CLI and the
// shim use it; one instance per sandbox, usable from several threads.
//
// Every call carries a deadline (call_agent, agent_client.h); replies are
// bounded by the channel's receive limit and every value in them is checked by
// agent_reply.h before it is returned (an exit status out of 0-255, a pid past
// the kernel's limit, a stdio chunk larger than kMaxIoChunkBytes are
// Errc::GuestProtocol). A failed call returns the agent's error with its Errc
// (agent/proto/error_codec.h): e.g. a spec rejected by the engine comes back as
// Errc::Invalid with the engine's message naming the spec field.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent.grpc.pb.h"
#include "common/error.h"
#include "runtime/sandbox/agent_client.h"
#include "runtime/sandbox/agent_reply.h"

namespace hull::sandbox {

// Deadline of a call that waits for a process (WaitProcess) unless given.
inline constexpr std::chrono::milliseconds kWaitForever{std::chrono::hours(24 * 365)};
// Deadline of container create/start/exec/remove: the engine's handshakes.
inline constexpr std::chrono::milliseconds kContainerCallTimeout{30000};

struct StdioMode {
  bool terminal = false;
  bool stdin = false;
};

enum class OutputStream { Stdout, Stderr };

class ContainerClient {
 public:
  explicit ContainerClient(agent::Agent::Stub& stub) : stub_(&stub) {}
  explicit ContainerClient(AgentClient& agent) : stub_(&agent.stub()) {}

  Status create_sandbox(const agent::CreateSandboxRequest& req,
                        std::chrono::milliseconds timeout = kAgentCallTimeout);

  // `spec_json`: config.json with root.path relative to the sandbox's shared
  // directory (runtime/share/rootfs.h: guest_rootfs_path). `bundle`: the host's
  // bundle path, for the state the container's startContainer hooks read.
  Status create(const std::string& id, std::string_view spec_json, StdioMode stdio,
                std::string_view bundle = {},
                std::chrono::milliseconds timeout = kContainerCallTimeout);
  Status start(const std::string& id, std::chrono::milliseconds timeout = kContainerCallTimeout);
  // SIGTERM, SIGKILL after `grace_s` seconds (0: SIGKILL at once); removes the cgroup.
  Status remove(const std::string& id, uint32_t grace_s = 0,
                std::chrono::milliseconds timeout = kContainerCallTimeout);
  // `process_json`: an OCI "process" object; `sub_cgroup`: a cgroup below the
  // container's to run it in (exec --cgroup), "" for the container's own.
  Status exec(const std::string& id, const std::string& exec_id, std::string_view process_json,
              StdioMode stdio, std::chrono::milliseconds timeout = kContainerCallTimeout,
              std::string_view sub_cgroup = {});
  // exec_id empty: the init; `all`: every process of the container. Signal 0
  // sends nothing: Errc::NotRunning unless the process still runs.
  Status signal(const std::string& id, const std::string& exec_id, int sig, bool all = false,
                std::chrono::milliseconds timeout = kAgentCallTimeout);
  Result<ExitInfo> wait(const std::string& id, const std::string& exec_id,
                        std::chrono::milliseconds timeout = kWaitForever);

  // Writes all of `data` (in chunks of at most kMaxIoChunkBytes).
  Status write_stdin(const std::string& id, const std::string& exec_id, std::span<const char> data,
                     std::chrono::milliseconds timeout = kContainerCallTimeout);
  Status close_stdin(const std::string& id, const std::string& exec_id,
                     std::chrono::milliseconds timeout = kAgentCallTimeout);
  Status resize_tty(const std::string& id, const std::string& exec_id, uint16_t rows, uint16_t cols,
                    std::chrono::milliseconds timeout = kAgentCallTimeout);

  // Streams stdout or stderr to EOF, calling `sink` with each chunk; a sink
  // error cancels the stream and is returned. `cancel` (optional) stops it from
  // another thread.
  using Sink = std::function<Status(std::string_view chunk)>;
  Status read_output(const std::string& id, const std::string& exec_id, OutputStream which,
                     const Sink& sink, std::chrono::milliseconds timeout = kWaitForever);

  // `extras`, when given, gets the rest of the reply (MemTotal, the name
  // tables, whether the guest left details out).
  Result<std::vector<agent::ProcessInfo>> list_processes(
      const std::string& id, std::chrono::milliseconds timeout = kAgentCallTimeout,
      ProcessListExtras* extras = nullptr);
  Result<agent::CgroupStats> stats(const std::string& id,
                                   std::chrono::milliseconds timeout = kAgentCallTimeout);
  Status pause(const std::string& id, std::chrono::milliseconds timeout = kAgentCallTimeout);
  Status resume(const std::string& id, std::chrono::milliseconds timeout = kAgentCallTimeout);
  // `resources_json`: an OCI linux.resources object.
  Status update(const std::string& id, std::string_view resources_json,
                std::chrono::milliseconds timeout = kAgentCallTimeout);

  agent::Agent::Stub& stub() { return *stub_; }

 private:
  agent::Agent::Stub* stub_;
};

// The OomEvents stream: next() blocks for the next container id that had an
// OOM kill; cancel() (any thread) ends a blocked next() with Errc::NotRunning.
class OomEventReader {
 public:
  static Result<std::unique_ptr<OomEventReader>> open(
      agent::Agent::Stub& stub, std::chrono::milliseconds timeout = kWaitForever);
  ~OomEventReader();
  // nullopt when the agent ended the stream (sandbox destroyed).
  Result<std::optional<std::string>> next();
  void cancel();

 private:
  OomEventReader() = default;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<agent::OomEvent>> reader_;
  bool done_ = false;
};

}  // namespace hull::sandbox
