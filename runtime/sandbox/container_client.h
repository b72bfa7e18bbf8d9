// ContainerClient: the one seam between hull's host side and a sandbox's
// agent for its containers (agent/proto/agent.proto's container API). The
// runc-mode lifecycle (runtime/container), the per-container monitor
// (runtime/monitor) and the shim call the agent only through it. The real
// implementation is gRPC over the sandbox's vsock socket
// (container_client_impl.h); tests use tests/fakes/fake_container_client.h.
//
// Every call may block (the agent is in another machine) and carries a
// deadline; none may be made from a signal handler. Implementations are safe
// to call from several threads (the monitor's relay threads). Replies are
// checked before they are returned (agent_reply.h): an exit status out of
// 0-255, a pid past the kernel's limit, a stdio chunk larger than
// kMaxIoChunkBytes are Errc::GuestProtocol. A failed call returns the agent's
// error with its Errc (agent/proto/error_codec.h): e.g. a spec rejected by the
// engine comes back as Errc::Invalid with the engine's message naming the
// spec field.
//
// The calls that block on the process (wait, read_output, write_stdin,
// close_stdin) take an optional Canceller (cancel.h): another thread's
// cancel() ends them at once with Errc::NotRunning "<call>: cancelled"
// (the shim's teardown). The sandbox's OOM kills come as a stream object
// (oom_events) with a cancel() of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent.pb.h"
#include "common/child_process.h"
#include "common/error.h"
#include "runtime/sandbox/agent_client.h"
#include "runtime/sandbox/agent_reply.h"
#include "runtime/sandbox/cancel.h"

namespace hull::sandbox {

// Deadline of a call that waits for a process (WaitProcess) unless given.
inline constexpr std::chrono::milliseconds kWaitForever{std::chrono::hours(24 * 365)};
// Deadline of container create/start/exec/remove: the engine's handshakes.
inline constexpr std::chrono::milliseconds kContainerCallTimeout{30000};

struct StdioMode {
  bool terminal = false;  // one pty in the guest; stderr is merged into stdout
  bool stdin = false;     // the process reads a stdin the host writes to
};

enum class OutputStream { Stdout, Stderr };

// The agent's OomEvents stream: next() blocks for the id of the next
// container of the sandbox that had an OOM kill, nullopt once the agent ended
// the stream (the sandbox is being destroyed). cancel(), from any thread,
// ends a blocked next() with Errc::NotRunning.
class OomEventReader {
 public:
  virtual ~OomEventReader() = default;
  virtual Result<std::optional<std::string>> next() = 0;
  virtual void cancel() = 0;
};

// A process of a container is named by the container's id and its exec id
// ("" for the container's init).
class ContainerClient {
 public:
  virtual ~ContainerClient() = default;

  // `spec_json`: config.json with root.path relative to the sandbox's shared
  // directory (runtime/share/rootfs.h: guest_rootfs_path). `bundle`: the host's
  // bundle path, for the state the container's startContainer hooks read.
  virtual Status create(const std::string& id, std::string_view spec_json, StdioMode stdio,
                        std::string_view bundle = {},
                        std::chrono::milliseconds timeout = kContainerCallTimeout) = 0;
  // The container's startContainer hooks run in the guest before its process
  // starts: `timeout` covers them.
  virtual Status start(const std::string& id,
                       std::chrono::milliseconds timeout = kContainerCallTimeout) = 0;
  // SIGTERM, SIGKILL after `grace_s` seconds (0: SIGKILL at once); removes the cgroup.
  virtual Status remove(const std::string& id, uint32_t grace_s = 0,
                        std::chrono::milliseconds timeout = kContainerCallTimeout) = 0;
  // `process_json`: an OCI "process" object; `sub_cgroup`: a cgroup below the
  // container's to run it in (exec --cgroup), "" for the container's own.
  virtual Status exec(const std::string& id, const std::string& exec_id,
                      std::string_view process_json, StdioMode stdio,
                      std::chrono::milliseconds timeout = kContainerCallTimeout,
                      std::string_view sub_cgroup = {}) = 0;
  // exec_id empty: the init; `all`: every process of the container. Signal 0
  // sends nothing: Errc::NotRunning unless the process still runs.
  virtual Status signal(const std::string& id, const std::string& exec_id, int sig,
                        bool all = false,
                        std::chrono::milliseconds timeout = kAgentCallTimeout) = 0;
  // Blocks until the process ends: its exit code (0-255, 128 + signal when
  // killed) and the signal (1-64) that killed it.
  virtual Result<ExitStatus> wait(const std::string& id, const std::string& exec_id,
                                  std::chrono::milliseconds timeout = kWaitForever,
                                  Canceller* cancel = nullptr) = 0;

  // Writes all of `data` (in chunks of at most kMaxIoChunkBytes); blocks
  // while the process does not read, up to `timeout`.
  virtual Status write_stdin(const std::string& id, const std::string& exec_id,
                             std::span<const char> data,
                             std::chrono::milliseconds timeout = kContainerCallTimeout,
                             Canceller* cancel = nullptr) = 0;
  virtual Status close_stdin(const std::string& id, const std::string& exec_id,
                             std::chrono::milliseconds timeout = kAgentCallTimeout,
                             Canceller* cancel = nullptr) = 0;
  virtual Status resize_tty(const std::string& id, const std::string& exec_id, uint16_t rows,
                            uint16_t cols,
                            std::chrono::milliseconds timeout = kAgentCallTimeout) = 0;

  // Streams stdout or stderr to EOF, calling `sink` with each chunk; a sink
  // error cancels the stream and is returned.
  using Sink = std::function<Status(std::string_view chunk)>;
  virtual Status read_output(const std::string& id, const std::string& exec_id, OutputStream which,
                             const Sink& sink, std::chrono::milliseconds timeout = kWaitForever,
                             Canceller* cancel = nullptr) = 0;

  // `extras`, when given, gets the rest of the reply (MemTotal, the name
  // tables, whether the guest left details out).
  virtual Result<std::vector<agent::ProcessInfo>> list_processes(
      const std::string& id, std::chrono::milliseconds timeout = kAgentCallTimeout,
      ProcessListExtras* extras = nullptr) = 0;
  virtual Result<agent::CgroupStats> stats(
      const std::string& id, std::chrono::milliseconds timeout = kAgentCallTimeout) = 0;
  virtual Status pause(const std::string& id,
                       std::chrono::milliseconds timeout = kAgentCallTimeout) = 0;
  virtual Status resume(const std::string& id,
                        std::chrono::milliseconds timeout = kAgentCallTimeout) = 0;
  // `resources_json`: an OCI linux.resources object.
  virtual Status update(const std::string& id, std::string_view resources_json,
                        std::chrono::milliseconds timeout = kAgentCallTimeout) = 0;

  // Opens the sandbox's OOM-kill stream; `timeout` bounds the whole stream.
  virtual Result<std::unique_ptr<OomEventReader>> oom_events(
      std::chrono::milliseconds timeout = kWaitForever) = 0;
};

}  // namespace hull::sandbox
