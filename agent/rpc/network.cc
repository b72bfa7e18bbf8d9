// The network calls of AgentService: rtnetlink through agent/net, and the DNS
// relay. One at a time (net_mu_): UpdateInterface renames links, which a
// concurrent call would see half done.
#include "agent/net/net_config.h"
#include "agent/proto/error_codec.h"
#include "agent/rpc/service.h"
#include "common/log.h"

namespace hull::agent::rpc {
namespace {

template <class T, class Reply>
grpc::Status answer(Result<T> r, Reply* reply) {
  if (!r) return to_grpc_status(r.error());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AgentService::UpdateInterface(grpc::ServerContext*, const UpdateInterfaceRequest* req,
                                           Interface* reply) {
  std::lock_guard lock(net_mu_);
  return answer(net::update_interface(req->interface()), reply);
}

grpc::Status AgentService::UpdateRoutes(grpc::ServerContext*, const UpdateRoutesRequest* req,
                                        Routes* reply) {
  std::lock_guard lock(net_mu_);
  return answer(net::update_routes(req->routes()), reply);
}

grpc::Status AgentService::ListInterfaces(grpc::ServerContext*, const Empty*, Interfaces* reply) {
  std::lock_guard lock(net_mu_);
  return answer(net::list_interfaces(), reply);
}

grpc::Status AgentService::ListRoutes(grpc::ServerContext*, const Empty*, Routes* reply) {
  std::lock_guard lock(net_mu_);
  return answer(net::list_routes(), reply);
}

grpc::Status AgentService::AddNeighbors(grpc::ServerContext*, const AddNeighborsRequest* req,
                                        Empty*) {
  std::lock_guard lock(net_mu_);
  if (auto st = net::add_neighbors(req->neighbors()); !st) return to_grpc_status(st.error());
  return grpc::Status::OK;
}

grpc::Status AgentService::ListNeighbors(grpc::ServerContext*, const Empty*, Neighbors* reply) {
  std::lock_guard lock(net_mu_);
  return answer(net::list_neighbors(), reply);
}

grpc::Status AgentService::StartDnsRelay(grpc::ServerContext*, const StartDnsRelayRequest* req,
                                         Empty*) {
  std::lock_guard lock(net_mu_);
  uint32_t port = req->vsock_port();
  if (dns_relay_ && port == dns_relay_port_) return grpc::Status::OK;
  dns_relay_.reset();  // frees 127.0.0.11:53 for the new one
  dns_relay_port_ = 0;
  if (port == 0) return grpc::Status::OK;
  net::DnsRelayOptions opts;
  opts.connect_host = [port] { return net::connect_vsock_host(port); };
  auto relay = net::DnsRelay::start(std::move(opts));
  if (!relay) return to_grpc_status(relay.error());
  dns_relay_ = std::move(*relay);
  dns_relay_port_ = port;
  log::info("dns relay: serving 127.0.0.11:53 for the host's vsock port " + std::to_string(port));
  return grpc::Status::OK;
}

}  // namespace hull::agent::rpc
