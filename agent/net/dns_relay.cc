#include "agent/net/dns_relay.h"

#include <arpa/inet.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "common/dns_frame.h"
#include "common/dns_stream.h"
#include "common/log.h"

namespace hull::agent::net {

struct DnsRelay::State {
  DnsRelayOptions opts;
  UniqueFd udp;
  UniqueFd tcp;
  UniqueFd stop;  // eventfd: readable once the relay stops
  uint16_t udp_port = 0;
  uint16_t tcp_port = 0;
  std::thread udp_thread;
  std::thread tcp_thread;
  std::mutex mu;
  std::condition_variable idle;
  int in_flight = 0;  // worker threads running (guarded by mu)
  dns::LogLimiter limiter{5, std::chrono::minutes(1)};

  void warn(const std::string& msg) {
    uint64_t dropped = 0;
    if (!limiter.allow(dns::LogLimiter::Clock::now(), &dropped)) return;
    log::warn("dns relay: " + msg +
              (dropped ? " (" + std::to_string(dropped) + " similar lines suppressed)" : ""));
  }
  bool begin_worker() {
    std::lock_guard lock(mu);
    if (in_flight >= opts.max_in_flight) return false;
    ++in_flight;
    return true;
  }
  void end_worker() {
    std::lock_guard lock(mu);
    --in_flight;
    idle.notify_all();
  }
};

namespace {

using State = DnsRelay::State;

Result<UniqueFd> bind_socket(int type, const sockaddr_in& addr) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("dns relay: socket");
  int one = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, text, sizeof text);
  std::string where = std::string(text) + ":" + std::to_string(ntohs(addr.sin_port));
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return fail_errno("dns relay: binding " + where);
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), 64) != 0) {
    return fail_errno("dns relay: listening on " + where);
  }
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.sin_port);
}

// One UDP query: its own stream to the host, one frame each way.
void relay_udp_query(std::shared_ptr<State> s, std::vector<uint8_t> query, sockaddr_in client) {
  auto done = [&] { s->end_worker(); };
  int stop = s->stop.get();
  int t = s->opts.query_timeout_ms;
  auto run = [&]() -> Status {
    HULL_ASSIGN(frame, dns::make_frame(query));
    frame.insert(frame.begin(), static_cast<uint8_t>(dns::Mode::Udp));
    HULL_ASSIGN(host, s->opts.connect_host());
    HULL_TRY(dns::write_all(host.get(), frame, t, stop));
    dns::FrameReader reader;
    HULL_ASSIGN(answer, dns::read_frame(host.get(), reader, t, stop));
    if (!answer) return fail(Errc::GuestProtocol, "the host closed the stream without an answer");
    if (::sendto(s->udp.get(), answer->data(), answer->size(), MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr*>(&client), sizeof client) < 0) {
      return fail_errno("answering the client");
    }
    return {};
  };
  if (auto st = run(); !st && st.error().code != Errc::NotRunning) {
    s->warn("UDP query: " + st.error().what());
  }
  done();
}

// One TCP client: a stream to the host, frames checked and passed both ways.
void relay_tcp_client(std::shared_ptr<State> s, UniqueFd client) {
  int stop = s->stop.get();
  int t = s->opts.query_timeout_ms;
  auto run = [&]() -> Status {
    HULL_ASSIGN(host, s->opts.connect_host());
    uint8_t mode = static_cast<uint8_t>(dns::Mode::Tcp);
    HULL_TRY(dns::write_all(host.get(), {&mode, 1}, t, stop));
    dns::FrameReader from_client, from_host;
    for (;;) {
      HULL_ASSIGN(query, dns::read_frame(client.get(), from_client, s->opts.idle_timeout_ms, stop));
      if (!query) return {};
      HULL_ASSIGN(qf, dns::make_frame(*query));
      HULL_TRY(dns::write_all(host.get(), qf, t, stop));
      HULL_ASSIGN(answer, dns::read_frame(host.get(), from_host, t, stop));
      if (!answer) return fail(Errc::GuestProtocol, "the host closed the stream mid-query");
      HULL_ASSIGN(af, dns::make_frame(*answer));
      HULL_TRY(dns::write_all(client.get(), af, t, stop));
    }
  };
  if (auto st = run();
      !st && st.error().code != Errc::NotRunning && st.error().code != Errc::Timeout) {
    s->warn("TCP query: " + st.error().what());
  }
  s->end_worker();
}

void udp_loop(std::shared_ptr<State> s) {
  std::vector<uint8_t> buf(dns::kMaxMessageBytes);
  for (;;) {
    if (!dns::wait_fd(s->udp.get(), POLLIN, -1, s->stop.get())) return;
    sockaddr_in client{};
    socklen_t len = sizeof client;
    ssize_t n = ::recvfrom(s->udp.get(), buf.data(), buf.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&client), &len);
    if (n < 0) continue;
    if (static_cast<size_t>(n) < dns::kHeaderBytes) continue;  // not DNS: nothing to answer
    if (!s->begin_worker()) {
      s->warn("more than " + std::to_string(s->opts.max_in_flight) +
              " queries in flight; dropping one");
      continue;
    }
    std::vector<uint8_t> query(buf.begin(), buf.begin() + n);
    std::thread(relay_udp_query, s, std::move(query), client).detach();
  }
}

void tcp_loop(std::shared_ptr<State> s) {
  for (;;) {
    if (!dns::wait_fd(s->tcp.get(), POLLIN, -1, s->stop.get())) return;
    UniqueFd client(::accept4(s->tcp.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    if (!s->begin_worker()) {
      s->warn("more than " + std::to_string(s->opts.max_in_flight) +
              " queries in flight; closing a TCP client");
      continue;
    }
    std::thread(relay_tcp_client, s, std::move(client)).detach();
  }
}

}  // namespace

Result<UniqueFd> connect_vsock_host(uint32_t port) {
  UniqueFd fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("dns relay: vsock socket");
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = VMADDR_CID_HOST;
  addr.svm_port = port;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail_errno("dns relay: connecting to the host's vsock port " + std::to_string(port));
  }
  return fd;
}

Result<std::unique_ptr<DnsRelay>> DnsRelay::start(DnsRelayOptions opts) {
  if (!opts.connect_host) return fail(Errc::Internal, "dns relay: no connect_host");
  auto s = std::make_shared<State>();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(opts.port);
  if (::inet_pton(AF_INET, opts.listen_address.c_str(), &addr.sin_addr) != 1) {
    return fail(Errc::Invalid,
                "dns relay: listen address " + opts.listen_address + " is not an IPv4 address");
  }
  s->opts = std::move(opts);
  s->stop = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->stop) return fail_errno("dns relay: eventfd");
  HULL_ASSIGN(udp, bind_socket(SOCK_DGRAM, addr));
  s->udp = std::move(udp);
  s->udp_port = port_of(s->udp.get());
  if (addr.sin_port == 0) addr.sin_port = htons(s->udp_port);
  HULL_ASSIGN(tcp, bind_socket(SOCK_STREAM, addr));
  s->tcp = std::move(tcp);
  s->tcp_port = port_of(s->tcp.get());
  s->udp_thread = std::thread(udp_loop, s);
  s->tcp_thread = std::thread(tcp_loop, s);
  return std::unique_ptr<DnsRelay>(new DnsRelay(std::move(s)));
}

DnsRelay::~DnsRelay() {
  uint64_t one = 1;
  (void)!::write(state_->stop.get(), &one, sizeof one);
  state_->udp_thread.join();
  state_->tcp_thread.join();
  std::unique_lock lock(state_->mu);
  state_->idle.wait(lock, [&] { return state_->in_flight == 0; });
}

uint16_t DnsRelay::udp_port() const {
  return state_->udp_port;
}
uint16_t DnsRelay::tcp_port() const {
  return state_->tcp_port;
}

}  // namespace hull::agent::net
