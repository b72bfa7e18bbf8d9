// A ttrpc client on one unix-socket connection (docs/ttrpc.md "Client"). Any
// number of threads may call at once: each call gets the next odd stream id
// and its answer is matched by that id, in whatever order the server answers.
// When the connection ends, every pending call (and every later one) fails
// with UNAVAILABLE naming the address; make a new Client to reconnect.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"
#include "ttrpc/service.h"
#include "ttrpc/status.h"

namespace hull::ttrpc {

struct CallOptions {
  // 0: wait for ever. Sent as timeout_nano so the server stops in time too;
  // the caller gets DEADLINE_EXCEEDED when no answer came within it.
  std::chrono::nanoseconds timeout{0};
  Metadata metadata;
};

class Client {
 public:
  // Connects to "unix:///path" or "/path".
  static Result<std::unique_ptr<Client>> connect(std::string_view address);
  // Uses a connected stream socket (a socketpair end, in tests).
  static Result<std::unique_ptr<Client>> adopt(UniqueFd fd, std::string name);

  ~Client();  // close()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request and waits for its answer: the output payload, or the
  // server's status, or why none came.
  CallResult call(std::string_view service, std::string_view method, std::string_view payload,
                  const CallOptions& options = {});

  // The same over generated message types.
  template <typename Req, typename Resp>
  std::expected<Resp, RpcError> call(std::string_view service, std::string_view method,
                                     const Req& req, const CallOptions& options = {}) {
    std::string payload;
    if (!req.SerializeToString(&payload)) {
      return rpc_fail(Code::Internal, "ttrpc: cannot encode the " + req.GetTypeName() +
                                          " request of " + std::string(service) + "/" +
                                          std::string(method));
    }
    auto out = call(service, method, payload, options);
    if (!out) return std::unexpected(std::move(out.error()));
    Resp resp;
    if (!resp.ParseFromString(*out)) {
      return rpc_fail(Code::Internal, "ttrpc: the answer of " + std::string(service) + "/" +
                                          std::string(method) + " is not a valid " +
                                          resp.GetTypeName());
    }
    return resp;
  }

  // Ends the connection; pending calls fail with UNAVAILABLE. Idempotent.
  void close();

  // Whether the connection has ended (then every call fails at once).
  bool closed();

 private:
  struct Pending {
    std::condition_variable cv;
    std::optional<CallResult> result;  // guarded by Client::mu_
  };

  Client(UniqueFd fd, std::string name);
  Status start();
  void read_loop();
  void deliver(uint32_t stream_id, CallResult result);
  void fail_all(const std::string& reason);
  std::expected<uint32_t, RpcError> send(std::string_view service, std::string_view method,
                                         std::string_view payload, const CallOptions& options,
                                         const std::shared_ptr<Pending>& pending);

  UniqueFd fd_;
  std::string name_;  // the address, for messages
  UniqueFd wake_;     // eventfd: close() stops the reader

  std::mutex write_mu_;  // one frame at a time on fd_

  std::mutex mu_;
  uint64_t next_id_ = 1;                                  // guarded by mu_; odd, never reused
  std::map<uint32_t, std::shared_ptr<Pending>> pending_;  // guarded by mu_
  std::optional<std::string> closed_;                     // guarded by mu_: why it ended
  std::once_flag close_once_;
  std::thread reader_;
};

}  // namespace hull::ttrpc
