#include "ttrpc/service.h"

namespace hull::ttrpc {

std::optional<std::string_view> CallContext::metadata_value(std::string_view key) const {
  if (metadata == nullptr) return std::nullopt;
  for (const auto& [k, v] : *metadata) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

void ServiceMap::add(std::string service, std::string method, Handler handler) {
  services_[std::move(service)][std::move(method)] = std::move(handler);
}

std::expected<const Handler*, RpcError> ServiceMap::find(std::string_view service,
                                                         std::string_view method) const {
  auto s = services_.find(service);
  if (s == services_.end()) {
    return rpc_fail(Code::Unimplemented, "ttrpc: unknown service \"" + std::string(service) + "\"");
  }
  auto m = s->second.find(method);
  if (m == s->second.end()) {
    return rpc_fail(Code::Unimplemented, "ttrpc: service " + std::string(service) +
                                             " has no method \"" + std::string(method) + "\"");
  }
  return &m->second;
}

std::string ServiceMap::decode_failure(const CallContext& ctx, const std::string& type,
                                       size_t size) {
  return "ttrpc: error unmarshalling payload: the " + std::to_string(size) + "-byte payload of " +
         std::string(ctx.service) + "/" + std::string(ctx.method) + " is not a valid " + type;
}

}  // namespace hull::ttrpc
