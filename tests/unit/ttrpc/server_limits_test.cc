// hull's ttrpc server, driven by hull's client and by a hand-written peer
// (raw_peer.h): framing, size and call limits, shutdown and peers.
#include "ttrpc/server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include "server_fixture.h"

namespace hull::ttrpc {
namespace {

using namespace std::chrono_literals;
using test::raw_frame;
using test::read_response;
using test::request_body;
using test::write_all;
namespace task = containerd::task::v2;
using test::Gate;
using test::ServerTest;
using test::test_services;

TEST_F(ServerTest, SplitWritesMakeOneRequest) {
  auto fd = raw();
  const std::string f = raw_frame(7, 1, request_body("test.Echo", "Echo", "in pieces"));
  for (char ch : f) {
    ASSERT_TRUE(write_all(fd.get(), std::string(1, ch)));
    std::this_thread::sleep_for(1ms);
  }
  uint32_t id = 0;
  auto resp = read_response(fd.get(), &id);
  ASSERT_TRUE(resp);
  EXPECT_EQ(id, 7u);
  EXPECT_EQ(resp->payload(), "in pieces");
}

TEST_F(ServerTest, SeveralRequestsInOneWrite) {
  auto fd = raw();
  std::string all;
  for (uint32_t id = 1; id <= 9; id += 2) {
    all += raw_frame(id, 1, request_body("test.Echo", "Echo", "n" + std::to_string(id)));
  }
  ASSERT_TRUE(write_all(fd.get(), all));
  std::map<uint32_t, std::string> got;
  for (int i = 0; i < 5; ++i) {
    uint32_t id = 0;
    auto resp = read_response(fd.get(), &id);
    ASSERT_TRUE(resp);
    got[id] = resp->payload();
  }
  for (uint32_t id = 1; id <= 9; id += 2) EXPECT_EQ(got[id], "n" + std::to_string(id));
}

// A request whose body is exactly 4 MiB: the largest frame ttrpc allows.
TEST_F(ServerTest, ExactlyFourMebibyteRequestIsServed) {
  const std::string empty = request_body("test.Echo", "Size", "");
  // Payload p adds 1 tag byte, a 3-byte varint length (p < 2^21... 4 MiB needs
  // 4 bytes: 2^21 <= p < 2^28) and p bytes.
  const size_t payload = kMaxMessageLength - empty.size() - 1 - 4;
  std::string body = request_body("test.Echo", "Size", std::string(payload, 'a'));
  ASSERT_EQ(body.size(), kMaxMessageLength);
  auto fd = raw();
  ASSERT_TRUE(write_all(fd.get(), raw_frame(1, 1, body)));
  auto resp = read_response(fd.get());
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status().code(), 0);
  EXPECT_EQ(resp->payload(), std::to_string(payload));
}

// One byte more: refused with RESOURCE_EXHAUSTED on its stream id, the body
// skipped, and the connection still usable, as with ttrpc-go.
TEST_F(ServerTest, FourMebibytesPlusOneIsRefusedAndTheConnectionStays) {
  auto fd = raw();
  std::string body(kMaxMessageLength + 1, 'b');
  std::thread writer([&] {
    write_all(fd.get(), raw_frame(3, 1, body));
    write_all(fd.get(), raw_frame(5, 1, request_body("test.Echo", "Echo", "next")));
  });
  uint32_t id = 0;
  auto refused = read_response(fd.get(), &id);
  ASSERT_TRUE(refused);
  EXPECT_EQ(id, 3u);
  EXPECT_EQ(refused->status().code(), static_cast<int>(Code::ResourceExhausted));
  EXPECT_NE(refused->status().message().find("4194305"), std::string::npos);
  auto next = read_response(fd.get(), &id);
  writer.join();
  ASSERT_TRUE(next);
  EXPECT_EQ(id, 5u);
  EXPECT_EQ(next->payload(), "next");
}

// The header promises more than ever arrives, then EOF: the server closes
// that connection and keeps serving everyone else.
TEST_F(ServerTest, LengthThatLiesThenEofClosesOnlyThatConnection) {
  auto good = client();
  auto liar = raw();
  ASSERT_TRUE(write_all(liar.get(), raw_frame(1, 1, "0123456789", 1000)));
  ::shutdown(liar.get(), SHUT_WR);
  EXPECT_TRUE(test::sees_eof(liar.get(), 5000ms));
  auto r = good->call("test.Echo", "Echo", "fine");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "fine");
}

TEST_F(ServerTest, EvenStreamIdIsInvalidArgument) {
  auto fd = raw();
  ASSERT_TRUE(write_all(fd.get(), raw_frame(2, 1, request_body("test.Echo", "Echo", "x"))));
  uint32_t id = 0;
  auto resp = read_response(fd.get(), &id);
  ASSERT_TRUE(resp);
  EXPECT_EQ(id, 2u);
  EXPECT_EQ(resp->status().code(), static_cast<int>(Code::InvalidArgument));
}

TEST_F(ServerTest, BodyThatIsNotARequestIsInvalidArgument) {
  auto fd = raw();
  ASSERT_TRUE(write_all(fd.get(), raw_frame(1, 1, "\x0a\xff\xff\xff\xff\x0f")));
  auto resp = read_response(fd.get());
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status().code(), static_cast<int>(Code::InvalidArgument));
}

TEST_F(ServerTest, FramesOfOtherTypesAreIgnored) {
  auto fd = raw();
  ASSERT_TRUE(write_all(fd.get(), raw_frame(1, 3, "data frame of ttrpc 1.2") +
                                      raw_frame(3, 2, "a response to nobody") +
                                      raw_frame(5, 1, request_body("test.Echo", "Echo", "ok"))));
  uint32_t id = 0;
  auto resp = read_response(fd.get(), &id);
  ASSERT_TRUE(resp);
  EXPECT_EQ(id, 5u);
  EXPECT_EQ(resp->payload(), "ok");
}

TEST_F(ServerTest, ShutdownStopsRunningCallsAndClosesEverything) {
  auto c = client();
  CallResult blocked;
  std::thread waiter([&] { blocked = c->call("test.Echo", "Block", ""); });
  ASSERT_TRUE(gate_.wait_entered(1, 5s));
  server_->shutdown();
  waiter.join();
  ASSERT_FALSE(blocked);
  // The stopped handler's CANCELLED went out before the socket closed.
  EXPECT_EQ(blocked.error().code, Code::Cancelled);
  EXPECT_EQ(gate_.stopped, 1);
  EXPECT_FALSE(std::filesystem::exists(path_));
  auto after = c->call("test.Echo", "Echo", "x");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, Code::Unavailable);
  EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(ServerTest, CallsBeyondThePerConnectionLimitAreRefused) {
  auto fd = raw();
  std::string all;
  for (uint32_t i = 0; i < kMaxCallsPerConnection; ++i) {
    all += raw_frame(2 * i + 1, 1, request_body("test.Echo", "Block", ""));
  }
  ASSERT_TRUE(write_all(fd.get(), all));
  ASSERT_TRUE(gate_.wait_entered(static_cast<int>(kMaxCallsPerConnection), 30s));
  const uint32_t extra = 2 * static_cast<uint32_t>(kMaxCallsPerConnection) + 1;
  ASSERT_TRUE(write_all(fd.get(), raw_frame(extra, 1, request_body("test.Echo", "Echo", "x"))));
  uint32_t id = 0;
  auto refused = read_response(fd.get(), &id);
  ASSERT_TRUE(refused);
  EXPECT_EQ(id, extra);
  EXPECT_EQ(refused->status().code(), static_cast<int>(Code::ResourceExhausted));
  gate_.release();
  for (size_t i = 0; i < kMaxCallsPerConnection; ++i) {
    auto resp = read_response(fd.get());
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->payload(), "released");
  }
}

size_t count_entries(const char* dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                           std::filesystem::directory_iterator()));
}

// RAII: after shutdown no descriptor and no thread of the server is left.
TEST(ServerLifetime, NothingLeftAfterShutdown) {
  test::TempDir dir;
  const size_t fds = count_entries("/proc/self/fd");
  const size_t threads = count_entries("/proc/self/task");
  {
    Gate gate;
    auto server = Server::listen(dir / "s.sock", test_services(gate));
    ASSERT_TRUE(server) << server.error().what();
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::thread> blocked;
    for (int i = 0; i < 4; ++i) {
      auto c = Client::connect(dir / "s.sock");
      ASSERT_TRUE(c) << c.error().what();
      clients.push_back(std::move(*c));
      ASSERT_TRUE(clients.back()->call("test.Echo", "Echo", "x"));
    }
    for (auto& c : clients) blocked.emplace_back([&c] { (void)c->call("test.Echo", "Block", ""); });
    ASSERT_TRUE(gate.wait_entered(4, 5s));
    (*server)->shutdown();
    for (auto& t : blocked) t.join();
  }
  EXPECT_EQ(count_entries("/proc/self/fd"), fds);
  EXPECT_EQ(count_entries("/proc/self/task"), threads);
}

TEST_F(ServerTest, ClosedConnectionsAreReaped) {
  for (int i = 0; i < 5; ++i) {
    auto c = client();
    ASSERT_TRUE(c->call("test.Echo", "Echo", "x"));
  }
  for (int i = 0; i < 100 && server_->connection_count() != 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->connection_count(), 0u);
}

TEST(ServerServe, ServesAnInheritedListeningSocket) {
  test::TempDir dir;
  auto fd = listen_unix(dir / "inherited.sock");
  ASSERT_TRUE(fd) << fd.error().what();
  Gate gate;
  auto server = Server::serve(std::move(*fd), test_services(gate));
  ASSERT_TRUE(server) << server.error().what();
  auto c = Client::connect("unix://" + (dir / "inherited.sock"));
  ASSERT_TRUE(c) << c.error().what();
  auto r = (*c)->call("test.Echo", "Echo", "inherited");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "inherited");
  (*server)->shutdown();
  // The socket file belongs to whoever made it.
  EXPECT_TRUE(std::filesystem::exists(dir / "inherited.sock"));
}

TEST(ServerServe, RefusesAnFdThatDoesNotListen) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd keep(sv[1]);
  auto server = Server::serve(UniqueFd(sv[0]), ServiceMap{});
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code, Errc::Invalid);
}

// SO_PEERCRED: a peer running as another uid (not root) is closed at once,
// before any call. The child drops to nobody and speaks raw syscalls only.
TEST_F(ServerTest, PeerWithAnotherUidIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a peer as another uid";
  // Let nobody reach the socket, so the credential check is what refuses it.
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(path_.c_str(), 0666), 0);
  const std::string request = raw_frame(1, 1, request_body("test.Echo", "Echo", "x"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) ::_exit(11);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) ::_exit(12);
    // The server may close first: no SIGPIPE, and a failed send is fine.
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) ::_exit(13);  // neither answered nor closed
    char buf[64];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    ::_exit(n <= 0 ? 0 : 14);  // 0: closed without an answer
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 setuid, 11 socket, 12 connect, 13 no close, 14 answered";
  // Root (this process) is still served.
  EXPECT_TRUE(client()->call("test.Echo", "Echo", "root"));
}

}  // namespace
}  // namespace hull::ttrpc
