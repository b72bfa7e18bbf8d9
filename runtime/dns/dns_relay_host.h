// The host end of the DNS relay for docker's embedded DNS (agent.proto
// StartDnsRelay; stream format in common/dns_frame.h). It runs in the
// per-container monitor, which lives in the container's network namespace,
// where dockerd answers on 127.0.0.11:53.
//
//   guest agent --vsock--> hull-vsock --connect--> <vsock.sock>_<port>  (this listener)
//   each stream: mode byte, then frames; each query frame goes to the target
//   (UDP for mode 'U', one TCP connection per stream for 'T'), each answer
//   comes back as a frame.
//
// The guest is untrusted: frames are checked (dns_frame.h), a bad one ends
// that stream, every wait has a timeout, at most max_connections streams are
// served at once, and what the guest can make it log is rate-limited.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent.grpc.pb.h"
#include "common/error.h"

namespace hull::dns {

struct HostRelayOptions {
  std::string listen_path;                    // "<vsock socket>_<port>"
  std::string target_address = "127.0.0.11";  // IPv4, in the monitor's network namespace
  uint16_t target_port = 53;
  int query_timeout_ms = 5000;
  int idle_timeout_ms = 10000;
  int max_connections = 64;
};

// "<vsock_socket>_<port>": where hull-vsock connects a guest's stream to port.
std::string relay_socket_path(const std::string& vsock_socket, uint32_t port);

// Whether a resolv.conf names docker's embedded DNS server (a "nameserver
// 127.0.0.11" line). Pure.
bool uses_embedded_dns(std::string_view resolv_conf);

class HostRelay {
 public:
  // Listens on opts.listen_path (a stale socket there is replaced) and serves
  // in threads of its own until destroyed; the destructor removes the socket.
  static Result<std::unique_ptr<HostRelay>> start(HostRelayOptions opts);
  ~HostRelay();
  HostRelay(const HostRelay&) = delete;
  HostRelay& operator=(const HostRelay&) = delete;

  struct State;

 private:
  explicit HostRelay(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

// Everything a runtime does for a container whose resolv.conf uses docker's
// embedded DNS: starts the host end on <vsock_socket>_<kDnsRelayVsockPort>
// (relaying to 127.0.0.11:53 of the caller's network namespace) and asks the
// agent (StartDnsRelay) to serve 127.0.0.11:53 in the guest. Keep the result
// alive as long as the VM runs.
Result<std::unique_ptr<HostRelay>> start_dns_relay(agent::Agent::Stub& agent,
                                                   const std::string& vsock_socket);

}  // namespace hull::dns
