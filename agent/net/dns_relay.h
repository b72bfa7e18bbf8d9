// The guest end of the DNS relay for docker's embedded DNS (StartDnsRelay):
// serves DNS on 127.0.0.11:53, UDP and TCP, and hands every query to the host
// over a stream it opens with connect_host (a vsock connection to the host's
// relay port in the agent), in common/dns_frame.h's format.
//
//   UDP query from a container  -> new stream, 'U' + frame -> host
//                               <- one answer frame        <- host
//   TCP connection              -> new stream, 'T', then frames both ways
//
// Threads: one for UDP, one accepting TCP, one per query or TCP connection in
// flight (at most max_in_flight; more are dropped, and a DNS client retries).
// Every wait ends after query_timeout_ms (idle_timeout_ms between TCP queries)
// or when the relay stops; the destructor stops it and waits for them all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::agent::net {

struct DnsRelayOptions {
  std::string listen_address = "127.0.0.11";  // an IPv4 address on this host (127/8 always is)
  uint16_t port = 53;                         // 0: any (tests)
  std::function<Result<UniqueFd>()> connect_host;
  int query_timeout_ms = 5000;
  int idle_timeout_ms = 10000;
  int max_in_flight = 64;
};

// Opens an AF_VSOCK stream to the host (CID 2) at port; the kernel gives up
// after its vsock connect timeout (2 s).
Result<UniqueFd> connect_vsock_host(uint32_t port);

class DnsRelay {
 public:
  static Result<std::unique_ptr<DnsRelay>> start(DnsRelayOptions opts);
  ~DnsRelay();
  DnsRelay(const DnsRelay&) = delete;
  DnsRelay& operator=(const DnsRelay&) = delete;

  uint16_t udp_port() const;
  uint16_t tcp_port() const;

  struct State;  // shared with the worker threads

 private:
  explicit DnsRelay(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace hull::agent::net
