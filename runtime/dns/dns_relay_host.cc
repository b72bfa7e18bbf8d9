#include "runtime/dns/dns_relay_host.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/proto/constants.h"
#include "common/dns_frame.h"
#include "common/dns_stream.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "common/unix_socket.h"
#include "runtime/sandbox/agent_client.h"

namespace hull::dns {

struct HostRelay::State {
  HostRelayOptions opts;
  sockaddr_in target{};
  UniqueFd listener;
  UniqueFd stop;
  std::thread accept_thread;
  std::mutex mu;
  std::condition_variable idle;
  int connections = 0;  // guarded by mu
  LogLimiter limiter{5, std::chrono::minutes(1)};

  void warn(const std::string& msg) {
    uint64_t dropped = 0;
    if (!limiter.allow(LogLimiter::Clock::now(), &dropped)) return;
    log::warn("dns relay: " + msg +
              (dropped ? " (" + std::to_string(dropped) + " similar lines suppressed)" : ""));
  }
};

namespace {

using State = HostRelay::State;

// The largest UDP answer the host end takes from the resolver.
constexpr size_t kMaxUdpAnswerBytes = kMaxMessageBytes;
// Datagrams with another query id that one UDP query waits past (stale answers).
constexpr int kMaxStrayAnswers = 8;

Result<std::vector<uint8_t>> ask_udp(State& s, const std::vector<uint8_t>& query) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("UDP socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&s.target), sizeof s.target) != 0) {
    return fail_errno("connecting to the resolver " + s.opts.target_address);
  }
  if (::send(fd.get(), query.data(), query.size(), 0) < 0) {
    return fail_errno("sending a query to " + s.opts.target_address);
  }
  std::vector<uint8_t> buf(kMaxUdpAnswerBytes);
  for (int stray = 0; stray <= kMaxStrayAnswers; ++stray) {
    HULL_TRY(wait_fd(fd.get(), POLLIN, s.opts.query_timeout_ms, s.stop.get()));
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return fail_errno("reading the answer of " + s.opts.target_address);
    if (static_cast<size_t>(n) < kHeaderBytes) continue;
    buf.resize(static_cast<size_t>(n));
    if (message_id(buf) == message_id(query)) return buf;
    buf.resize(kMaxUdpAnswerBytes);
  }
  return fail(Errc::GuestProtocol, "no answer with the query's id");
}

Result<UniqueFd> connect_tcp(State& s) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fail_errno("TCP socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&s.target), sizeof s.target) != 0 &&
      errno != EINPROGRESS) {
    return fail_errno("connecting to the resolver " + s.opts.target_address);
  }
  HULL_TRY(wait_fd(fd.get(), POLLOUT, s.opts.query_timeout_ms, s.stop.get()));
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return fail_errno("connecting to the resolver " + s.opts.target_address, err);
  return fd;
}

Status serve(State& s, int guest) {
  int stop = s.stop.get();
  int t = s.opts.query_timeout_ms;
  HULL_ASSIGN(first, read_byte(guest, t, stop));
  if (!first) return {};
  HULL_ASSIGN(mode, parse_mode(*first));
  FrameReader from_guest, from_resolver;
  UniqueFd tcp;
  for (;;) {
    HULL_ASSIGN(query, read_frame(guest, from_guest, s.opts.idle_timeout_ms, stop));
    if (!query) return {};
    std::vector<uint8_t> answer;
    if (mode == Mode::Udp) {
      HULL_ASSIGN(a, ask_udp(s, *query));
      answer = std::move(a);
    } else {
      if (!tcp) {
        HULL_ASSIGN(fd, connect_tcp(s));
        tcp = std::move(fd);
      }
      HULL_ASSIGN(qf, make_frame(*query));
      HULL_TRY(write_all(tcp.get(), qf, t, stop));
      HULL_ASSIGN(a, read_frame(tcp.get(), from_resolver, t, stop));
      if (!a) return fail(Errc::NotRunning, "the resolver closed the TCP connection");
      answer = std::move(*a);
    }
    HULL_ASSIGN(af, make_frame(answer));
    HULL_TRY(write_all(guest, af, t, stop));
  }
}

void serve_connection(std::shared_ptr<State> s, UniqueFd guest) {
  if (auto st = serve(*s, guest.get());
      !st && st.error().code != Errc::NotRunning && st.error().code != Errc::Timeout) {
    s->warn(st.error().what());
  }
  guest.reset();
  std::lock_guard lock(s->mu);
  --s->connections;
  s->idle.notify_all();
}

void accept_loop(std::shared_ptr<State> s) {
  for (;;) {
    if (!wait_fd(s->listener.get(), POLLIN, -1, s->stop.get())) return;
    UniqueFd guest(::accept4(s->listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!guest) continue;
    {
      std::lock_guard lock(s->mu);
      if (s->connections >= s->opts.max_connections) {
        s->warn("more than " + std::to_string(s->opts.max_connections) +
                " streams from the guest; closing one");
        continue;
      }
      ++s->connections;
    }
    std::thread(serve_connection, s, std::move(guest)).detach();
  }
}

}  // namespace

std::string relay_socket_path(const std::string& vsock_socket, uint32_t port) {
  return vsock_socket + "_" + std::to_string(port);
}

bool uses_embedded_dns(std::string_view resolv_conf) {
  size_t pos = 0;
  while (pos <= resolv_conf.size()) {
    size_t end = resolv_conf.find('\n', pos);
    if (end == std::string_view::npos) end = resolv_conf.size();
    std::string_view line = resolv_conf.substr(pos, end - pos);
    auto word = [&]() {
      size_t b = line.find_first_not_of(" \t\r");
      if (b == std::string_view::npos) return std::string_view();
      size_t e = line.find_first_of(" \t\r", b);
      std::string_view w = line.substr(b, e == std::string_view::npos ? line.npos : e - b);
      line = e == std::string_view::npos ? std::string_view() : line.substr(e);
      return w;
    };
    if (word() == "nameserver" && word() == "127.0.0.11") return true;
    pos = end + 1;
  }
  return false;
}

Result<std::unique_ptr<HostRelay>> HostRelay::start(HostRelayOptions opts) {
  auto s = std::make_shared<State>();
  s->target.sin_family = AF_INET;
  s->target.sin_port = htons(opts.target_port);
  if (::inet_pton(AF_INET, opts.target_address.c_str(), &s->target.sin_addr) != 1) {
    return fail(Errc::Invalid,
                "dns relay: target " + opts.target_address + " is not an IPv4 address");
  }
  s->opts = std::move(opts);
  s->stop = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->stop) return fail_errno("dns relay: eventfd");
  HULL_ASSIGN(listener, wrap(listen_unix(s->opts.listen_path, 64), "dns relay"));
  s->listener = std::move(listener);
  // hull-vsock connects here as the jail user: the socket is open to all, the
  // sandbox's vsock/ directory (0710, root and the jail group) keeps others out.
  if (::chmod(s->opts.listen_path.c_str(), 0666) != 0) {
    int err = errno;
    ::unlink(s->opts.listen_path.c_str());
    return fail_errno("dns relay: chmod " + s->opts.listen_path, err);
  }
  s->accept_thread = std::thread(accept_loop, s);
  return std::unique_ptr<HostRelay>(new HostRelay(std::move(s)));
}

HostRelay::~HostRelay() {
  uint64_t one = 1;
  (void)!::write(state_->stop.get(), &one, sizeof one);
  state_->accept_thread.join();
  ::unlink(state_->opts.listen_path.c_str());
  std::unique_lock lock(state_->mu);
  state_->idle.wait(lock, [&] { return state_->connections == 0; });
}

Result<std::unique_ptr<HostRelay>> start_dns_relay(agent::Agent::Stub& agent,
                                                   const std::string& vsock_socket) {
  HostRelayOptions opts;
  opts.listen_path = relay_socket_path(vsock_socket, agent::kDnsRelayVsockPort);
  HULL_ASSIGN(relay, HostRelay::start(std::move(opts)));
  agent::StartDnsRelayRequest req;
  req.set_vsock_port(agent::kDnsRelayVsockPort);
  HULL_TRY(sandbox::call_agent(agent, &agent::Agent::Stub::StartDnsRelay, "StartDnsRelay", req,
                               sandbox::kAgentCallTimeout));
  return relay;
}

}  // namespace hull::dns
