// Running the agent's gRPC service. gRPC 1.51 cannot listen on vsock, so the
// agent accepts AF_VSOCK connections itself and hands each connected,
// non-blocking fd to the server as its own HTTP/2 transport. The accept side is driven by the
// agent's main loop (epoll on listen_fd() and destroy_fd()); gRPC runs its
// own threads for the unary calls, the call queue's thread (call_queue.h)
// serves the long-lived ones.
//
//   main loop                  AgentServer                    host
//     |--- start(listener) ----->| BuildAndStart                 |
//     | epoll listen_fd          |<----- connect port 1024 ------|
//     |--- on_listen_ready() --->| accept4(NONBLOCK) -> gRPC     |
//     |                          |<----- DestroySandbox ---------|
//     | epoll destroy_fd         |------ OK -------------------->|
//     |--- shutdown() ---------->| drains calls (reply is out)   |
//     | power off                                                |
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/proto/constants.h"
#include "common/error.h"
#include "common/unique_fd.h"

namespace grpc {
class Server;
}

namespace hull::agent::init {
class Reaper;
}

namespace hull::agent::rpc {

class AgentService;
class CallQueue;

struct ServerOptions {
  uint64_t start_boottime_ns = 0;  // CLOCK_BOOTTIME at the start of main(); 0: now
  std::string shared_dir = kGuestSharedDir;
  init::Reaper* reaper = nullptr;  // PID 1's reaper; null: no container calls (host tests)
};

class AgentServer {
 public:
  // Starts the gRPC server (no listening port of its own) for `listener`,
  // a listening stream socket (AF_VSOCK in the guest, AF_UNIX in tests).
  static Result<std::unique_ptr<AgentServer>> start(UniqueFd listener, const ServerOptions& opts);
  ~AgentServer();

  // Readable when a connection waits: call on_listen_ready().
  int listen_fd() const { return listener_.get(); }
  // Readable once DestroySandbox has been answered: call shutdown(), then power off.
  int destroy_fd() const { return destroy_.get(); }

  // Accepts every pending connection and hands it to gRPC.
  void on_listen_ready();
  // Stops accepting, kills what is left in containers, ends the long-lived
  // streams and waits (bounded) for calls in flight, including the
  // DestroySandbox reply, to finish.
  void shutdown();

 private:
  AgentServer() = default;

  UniqueFd listener_;
  UniqueFd destroy_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<CallQueue> calls_;  // outlives server_, as gRPC wants of a queue
  std::unique_ptr<grpc::Server> server_;
};

// A listening AF_VSOCK socket on `port` (any CID).
Result<UniqueFd> listen_vsock(uint32_t port);

// Mounts the host's shared/ directory (virtio-fs tag kSharedFsTag) on `dir`.
Status mount_shared_fs(const std::string& dir);

// Serves on `listener` with a poll loop of its own until DestroySandbox has
// been answered, then returns (tests; the agent uses its main loop).
Status serve_until_destroyed(UniqueFd listener, const ServerOptions& opts);

}  // namespace hull::agent::rpc
