// What a ttrpc server serves: handlers by (service, method), and what each
// call knows about itself.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ttrpc/status.h"

namespace hull::ttrpc {

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct CallContext {
  std::string_view service;            // "containerd.task.v2.Task"
  std::string_view method;             // "Wait"
  const Metadata* metadata = nullptr;  // as sent; a key may repeat
  // From the request's timeout_nano. When it passes, the server answers
  // DEADLINE_EXCEEDED itself and `stop` is requested; the handler's late
  // answer is dropped.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Requested when the deadline passes, the connection closes or the server
  // shuts down. A handler that blocks must wait on it (e.g.
  // std::condition_variable_any::wait with this token) and then return.
  std::stop_token stop;
  pid_t peer_pid = 0;
  uid_t peer_uid = 0;

  // The first value of `key` (containerd's namespace travels as
  // "containerd-namespace-ttrpc"), or nullopt.
  std::optional<std::string_view> metadata_value(std::string_view key) const;
};

// Takes the serialized input message, returns the serialized output message.
using Handler = std::function<CallResult(const CallContext&, std::string_view payload)>;

class ServiceMap {
 public:
  // Registers (or replaces) the handler of service/method.
  void add(std::string service, std::string method, Handler handler);

  // A handler over generated message types: the payload is decoded as Req
  // (INTERNAL when it does not decode, as ttrpc-go answers) and the returned
  // Resp is encoded.
  template <typename Req, typename Resp>
  void add_typed(std::string service, std::string method,
                 std::function<std::expected<Resp, RpcError>(const CallContext&, const Req&)> fn) {
    add(std::move(service), std::move(method),
        [fn = std::move(fn)](const CallContext& ctx, std::string_view payload) -> CallResult {
          Req req;
          if (!req.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
            return rpc_fail(Code::Internal, decode_failure(ctx, req.GetTypeName(), payload.size()));
          }
          auto resp = fn(ctx, req);
          if (!resp) return std::unexpected(std::move(resp.error()));
          std::string out;
          if (!resp->SerializeToString(&out)) {
            return rpc_fail(Code::Internal, "ttrpc: cannot encode the " + resp->GetTypeName() +
                                                " answer of " + std::string(ctx.service) + "/" +
                                                std::string(ctx.method));
          }
          return out;
        });
  }

  // The handler, or UNIMPLEMENTED naming the unknown service or method.
  std::expected<const Handler*, RpcError> find(std::string_view service,
                                               std::string_view method) const;

 private:
  static std::string decode_failure(const CallContext& ctx, const std::string& type, size_t size);

  // service -> method -> handler
  std::map<std::string, std::map<std::string, Handler, std::less<>>, std::less<>> services_;
};

}  // namespace hull::ttrpc
