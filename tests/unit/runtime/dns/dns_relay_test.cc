// The DNS relay end to end without a VM: the guest end (agent/net/dns_relay)
// reaches the host end (runtime/dns) over a unix socket instead of vsock (the
// same stream), and the host end asks a fake resolver on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "agent/net/dns_relay.h"
#include "common/dns_frame.h"
#include "common/unique_fd.h"
#include "runtime/dns/dns_relay_host.h"

namespace hull::dns {
namespace {

using namespace std::chrono_literals;

sockaddr_in loopback(const char* addr, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, addr, &a.sin_addr);
  return a;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// Answers every query with the query itself, QR bit set, plus the transport's
// name ("udp"/"tcp") appended, so a test sees which way it went.
class FakeResolver {
 public:
  explicit FakeResolver(const char* addr, uint16_t port = 0, bool silent = false)
      : silent_(silent) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      udp_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      tcp_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in a = loopback(addr, port);
      if (::bind(udp_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) continue;
      a.sin_port = htons(port_of(udp_.get()));
      int one = 1;
      ::setsockopt(tcp_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (::bind(tcp_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) continue;
      ::listen(tcp_.get(), 8);
      port_ = port_of(udp_.get());
      break;
    }
    thread_ = std::thread([this] { run(); });
  }
  ~FakeResolver() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }

 private:
  static std::vector<uint8_t> answer(std::vector<uint8_t> q, const char* how) {
    q[2] |= 0x80;
    q.insert(q.end(), how, how + 3);
    return q;
  }
  void run() {
    std::vector<UniqueFd> clients;
    std::vector<FrameReader> readers;
    while (!stop_) {
      std::vector<pollfd> p{{udp_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}};
      for (auto& c : clients) p.push_back({c.get(), POLLIN, 0});
      if (::poll(p.data(), p.size(), 50) <= 0) continue;
      if (p[0].revents) {
        std::vector<uint8_t> buf(70000);
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(udp_.get(), buf.data(), buf.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &len);
        if (n >= 12) {
          ++udp_queries_;
          buf.resize(static_cast<size_t>(n));
          auto a = answer(buf, "udp");
          if (!silent_) {
            ::sendto(udp_.get(), a.data(), a.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
          }
        }
      }
      if (p[1].revents) {
        clients.emplace_back(::accept4(tcp_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        readers.emplace_back();
      }
      // Only the clients polled this round: one accepted above has no entry in p yet.
      for (size_t i = 0; i + 2 < p.size(); ++i) {
        if (!p[2 + i].revents) continue;
        uint8_t buf[4096];
        ssize_t n = ::recv(clients[i].get(), buf, sizeof buf, 0);
        if (n <= 0) continue;
        readers[i].feed({buf, static_cast<size_t>(n)});
        while (auto m = readers[i].next()) {
          if (!*m) break;
          ++tcp_queries_;
          auto f = *make_frame(answer(**m, "tcp"));
          if (!silent_) (void)!::write(clients[i].get(), f.data(), f.size());
        }
      }
    }
  }

  bool silent_;
  UniqueFd udp_, tcp_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> udp_queries_{0}, tcp_queries_{0};
  std::thread thread_;
};

Result<UniqueFd> connect_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    return fail_errno("connect " + path);
  }
  return fd;
}

std::vector<uint8_t> query(uint16_t id, size_t size = 30) {
  std::vector<uint8_t> q(size, 0);
  q[0] = static_cast<uint8_t>(id >> 8);
  q[1] = static_cast<uint8_t>(id);
  q[5] = 1;  // one question
  return q;
}

std::optional<std::vector<uint8_t>> ask_udp(uint16_t port, const std::vector<uint8_t>& q,
                                            int timeout_ms = 5000) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback("127.0.0.1", port);
  ::sendto(fd.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
  std::vector<uint8_t> buf(70000);
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<size_t>(n));
  return buf;
}

class DnsRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hull-dns-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    socket_ = relay_socket_path((dir_ / "vsock.sock").string(), 1053);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void start(uint16_t resolver_port, const char* target = "127.0.0.1", int timeout_ms = 5000) {
    HostRelayOptions h;
    h.listen_path = socket_;
    h.target_address = target;
    h.target_port = resolver_port;
    h.query_timeout_ms = timeout_ms;
    auto host = HostRelay::start(h);
    ASSERT_TRUE(host) << host.error().what();
    host_ = std::move(*host);
    agent::net::DnsRelayOptions g;
    g.listen_address = "127.0.0.1";
    g.port = 0;
    g.query_timeout_ms = timeout_ms;
    std::string path = socket_;
    g.connect_host = [path] { return connect_unix(path); };
    auto guest = agent::net::DnsRelay::start(g);
    ASSERT_TRUE(guest) << guest.error().what();
    guest_ = std::move(*guest);
  }

  std::filesystem::path dir_;
  std::string socket_;
  std::unique_ptr<HostRelay> host_;
  std::unique_ptr<agent::net::DnsRelay> guest_;
};

TEST(DnsRelayHost, SocketPathAndResolvConf) {
  EXPECT_EQ(relay_socket_path("/run/hull/x/vsock.sock", 1053), "/run/hull/x/vsock.sock_1053");
  EXPECT_TRUE(uses_embedded_dns("search x\nnameserver 127.0.0.11\noptions ndots:0\n"));
  EXPECT_TRUE(uses_embedded_dns("  nameserver\t127.0.0.11"));
  EXPECT_FALSE(uses_embedded_dns("nameserver 127.0.0.111\n"));
  EXPECT_FALSE(uses_embedded_dns("# nameserver 127.0.0.11\nnameserver 8.8.8.8\n"));
  EXPECT_FALSE(uses_embedded_dns(""));
}

TEST_F(DnsRelayTest, UdpQueryGoesOverUdpAndComesBack) {
  FakeResolver resolver("127.0.0.1");
  start(resolver.port());
  for (uint16_t id : {1, 2, 0xbeef}) {
    auto a = ask_udp(guest_->udp_port(), query(id));
    ASSERT_TRUE(a) << "no answer for id " << id;
    EXPECT_EQ(message_id(*a), id);
    EXPECT_TRUE((*a)[2] & 0x80);
    EXPECT_EQ(std::string(a->end() - 3, a->end()), "udp");
  }
  EXPECT_EQ(resolver.udp_queries(), 3);
  EXPECT_EQ(resolver.tcp_queries(), 0);
}

TEST_F(DnsRelayTest, LargeUdpAnswerFits) {
  FakeResolver resolver("127.0.0.1");
  start(resolver.port());
  auto a = ask_udp(guest_->udp_port(), query(7, 4000));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size(), 4003u);
}

TEST_F(DnsRelayTest, TcpQueriesGoOverTcp) {
  FakeResolver resolver("127.0.0.1");
  start(resolver.port());
  UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback("127.0.0.1", guest_->tcp_port());
  ASSERT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  // Two queries in one write: both answered, in order.
  auto f1 = *make_frame(query(11));
  auto f2 = *make_frame(query(12));
  f1.insert(f1.end(), f2.begin(), f2.end());
  ASSERT_EQ(::write(c.get(), f1.data(), f1.size()), static_cast<ssize_t>(f1.size()));
  FrameReader r;
  std::vector<std::vector<uint8_t>> answers;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (answers.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{c.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) continue;
    uint8_t buf[1024];
    ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    r.feed({buf, static_cast<size_t>(n)});
    while (auto m = r.next()) {
      if (!*m) break;
      answers.push_back(**m);
    }
  }
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(message_id(answers[0]), 11);
  EXPECT_EQ(message_id(answers[1]), 12);
  EXPECT_EQ(std::string(answers[1].end() - 3, answers[1].end()), "tcp");
  EXPECT_EQ(resolver.tcp_queries(), 2);
}

TEST_F(DnsRelayTest, BadStreamsFromTheGuestAreDroppedAndTheRelayGoesOn) {
  FakeResolver resolver("127.0.0.1");
  start(resolver.port());
  auto expect_closed = [&](std::vector<uint8_t> bytes) {
    auto fd = connect_unix(socket_);
    ASSERT_TRUE(fd);
    ASSERT_EQ(::write(fd->get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    pollfd p{fd->get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    uint8_t b;
    EXPECT_EQ(::recv(fd->get(), &b, 1, 0), 0) << "the host end should close the stream";
  };
  expect_closed({'X'});                 // unknown mode
  expect_closed({'U', 0, 3, 1, 2, 3});  // a frame shorter than a DNS header
  expect_closed({'T', 0, 0});           // an empty frame
  EXPECT_EQ(resolver.udp_queries() + resolver.tcp_queries(), 0);
  // The relay still answers.
  auto a = ask_udp(guest_->udp_port(), query(5));
  ASSERT_TRUE(a);
  EXPECT_EQ(message_id(*a), 5);
  // A datagram too short to be DNS is not relayed at all.
  EXPECT_FALSE(ask_udp(guest_->udp_port(), std::vector<uint8_t>(5, 1), 500));
}

TEST_F(DnsRelayTest, SilentResolverTimesOutAndStopIsPrompt) {
  FakeResolver resolver("127.0.0.1", 0, /*silent=*/true);
  start(resolver.port(), "127.0.0.1", 60000);
  EXPECT_FALSE(ask_udp(guest_->udp_port(), query(9), 500));
  // Both ends are waiting for 60 s; stopping them must not.
  auto t0 = std::chrono::steady_clock::now();
  guest_.reset();
  host_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_FALSE(std::filesystem::exists(socket_)) << "the listener's socket is removed";
}

TEST_F(DnsRelayTest, DefaultTargetInsideANamespaceOfTheTest) {
  // dockerd's resolver is at 127.0.0.11:53 of the container's namespace: a fake
  // one there, in a network namespace this test unshares (only lo, brought up).
  bool ran = false;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) return;
    ran = true;
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq req{};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    ::ioctl(s.get(), SIOCGIFFLAGS, &req);
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    ASSERT_EQ(::ioctl(s.get(), SIOCSIFFLAGS, &req), 0);
    FakeResolver resolver("127.0.0.11", 53);
    ASSERT_EQ(resolver.port(), 53);
    HostRelayOptions h;
    h.listen_path = socket_;  // defaults: 127.0.0.11:53
    auto host = HostRelay::start(h);
    ASSERT_TRUE(host) << host.error().what();
    agent::net::DnsRelayOptions g;
    g.listen_address = "127.0.0.1";
    g.port = 0;
    std::string path = socket_;
    g.connect_host = [path] { return connect_unix(path); };
    auto guest = agent::net::DnsRelay::start(g);
    ASSERT_TRUE(guest) << guest.error().what();
    auto a = ask_udp((*guest)->udp_port(), query(53));
    ASSERT_TRUE(a);
    EXPECT_EQ(message_id(*a), 53);
  });
  t.join();
  if (!ran) GTEST_SKIP() << "cannot unshare a network namespace (needs root)";
}

}  // namespace
}  // namespace hull::dns
