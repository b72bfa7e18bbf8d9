// hull's ttrpc server, driven by hull's client and by a hand-written peer
// (raw_peer.h) for what the client never sends.
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

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "raw_peer.h"
#include "ttrpc/client.h"
#include "ttrpc/socket.h"

namespace hull::ttrpc {
namespace {

using namespace std::chrono_literals;
using test::raw_frame;
using test::read_response;
using test::request_body;
using test::write_all;
namespace task = containerd::task::v2;

// What the Block handler has seen, shared with the test.
struct Gate {
  std::mutex mu;
  std::condition_variable_any cv;
  int entered = 0;
  int stopped = 0;
  bool open = false;

  void release() {
    std::lock_guard l(mu);
    open = true;
    cv.notify_all();
  }
  bool wait_entered(int n, std::chrono::milliseconds timeout) {
    std::unique_lock l(mu);
    return cv.wait_for(l, timeout, [&] { return entered >= n; });
  }
};

ServiceMap test_services(Gate& gate) {
  ServiceMap s;
  s.add("test.Echo", "Echo",
        [](const CallContext&, std::string_view p) -> CallResult { return std::string(p); });
  s.add("test.Echo", "Size", [](const CallContext&, std::string_view p) -> CallResult {
    return std::to_string(p.size());
  });
  s.add("test.Echo", "Fail", [](const CallContext&, std::string_view) -> CallResult {
    return rpc_fail(Code::NotFound, "container c1 does not exist");
  });
  s.add("test.Echo", "Throw", [](const CallContext&, std::string_view) -> CallResult {
    throw std::runtime_error("boom");
  });
  s.add("test.Echo", "Huge", [](const CallContext&, std::string_view) -> CallResult {
    return std::string(kMaxMessageLength, 'x');
  });
  s.add("test.Echo", "Meta", [](const CallContext& ctx, std::string_view) -> CallResult {
    return std::string(ctx.metadata_value("containerd-namespace-ttrpc").value_or("<none>"));
  });
  s.add("test.Echo", "Deadline", [](const CallContext& ctx, std::string_view) -> CallResult {
    if (!ctx.deadline) return std::string("none");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *ctx.deadline - std::chrono::steady_clock::now());
    return std::to_string(left.count());
  });
  // Blocks until the gate opens (then answers "released") or the call is
  // stopped (then CANCELLED); gives up after 20 s.
  s.add("test.Echo", "Block", [&gate](const CallContext& ctx, std::string_view) -> CallResult {
    std::unique_lock l(gate.mu);
    ++gate.entered;
    gate.cv.notify_all();
    gate.cv.wait_for(l, ctx.stop, 20s, [&] { return gate.open; });
    if (ctx.stop.stop_requested()) {
      ++gate.stopped;
      gate.cv.notify_all();
      return rpc_fail(Code::Cancelled, "stopped");
    }
    return std::string(gate.open ? "released" : "gave up");
  });
  s.add_typed<task::StateRequest, task::StateResponse>(
      "containerd.task.v2.Task", "State",
      [](const CallContext&,
         const task::StateRequest& req) -> std::expected<task::StateResponse, RpcError> {
        if (req.id() != "c1") return rpc_fail(Code::NotFound, "no container " + req.id());
        task::StateResponse resp;
        resp.set_id(req.id());
        resp.set_exec_id(req.exec_id());
        resp.set_bundle("/run/containerd/io.containerd.runtime.v2.task/default/c1");
        resp.set_pid(4242);
        resp.set_status(containerd::v1::types::RUNNING);
        resp.set_stdout("/run/containerd/fifo/1/c1-stdout");
        resp.set_terminal(true);
        return resp;
      });
  return s;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Server::listen(path_, test_services(gate_));
    ASSERT_TRUE(s) << s.error().what();
    server_ = std::move(*s);
  }
  void TearDown() override {
    gate_.release();
    server_.reset();
  }

  std::unique_ptr<Client> client() {
    auto c = Client::connect(path_);
    EXPECT_TRUE(c) << (c ? "" : c.error().what());
    return c ? std::move(*c) : nullptr;
  }

  UniqueFd raw() {
    auto fd = connect_unix(path_);
    EXPECT_TRUE(fd) << (fd ? "" : fd.error().what());
    return fd ? std::move(*fd) : UniqueFd();
  }

  test::TempDir dir_;
  std::string path_ = dir_ / "ttrpc.sock";
  Gate gate_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, EchoRoundTrip) {
  auto c = client();
  auto r = c->call("test.Echo", "Echo", "hello");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(*r, "hello");
  auto empty = c->call("test.Echo", "Echo", "");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
}

TEST_F(ServerTest, SocketIsPrivateAndRemovedAtShutdown) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server_->shutdown();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ServerTest, ListenRefusesAnExistingPath) {
  auto second = Server::listen(path_, ServiceMap{});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::Exists);
}

TEST_F(ServerTest, UnknownServiceIsUnimplemented) {
  auto r = client()->call("containerd.task.v2.Nope", "State", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Unimplemented);
  EXPECT_NE(r.error().message.find("containerd.task.v2.Nope"), std::string::npos);
}

TEST_F(ServerTest, UnknownMethodIsUnimplemented) {
  auto c = client();
  auto r = c->call("containerd.task.v2.Task", "Checkpoint", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Unimplemented);
  EXPECT_NE(r.error().message.find("Checkpoint"), std::string::npos);
  // The connection stays: containerd fails only that call.
  EXPECT_TRUE(c->call("test.Echo", "Echo", "still here"));
}

TEST_F(ServerTest, HandlerStatusIsPassedThrough) {
  auto r = client()->call("test.Echo", "Fail", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::NotFound);
  EXPECT_EQ(r.error().message, "container c1 does not exist");
  EXPECT_EQ(r.error().what(), "NOT_FOUND: container c1 does not exist");
}

TEST_F(ServerTest, HandlerThatThrowsAnswersInternal) {
  auto c = client();
  auto r = c->call("test.Echo", "Throw", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Internal);
  EXPECT_NE(r.error().message.find("boom"), std::string::npos);
  EXPECT_TRUE(c->call("test.Echo", "Echo", "x"));
}

TEST_F(ServerTest, AnswerOverFourMebibytesIsResourceExhausted) {
  auto r = client()->call("test.Echo", "Huge", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::ResourceExhausted);
}

TEST_F(ServerTest, MetadataReachesTheHandler) {
  CallOptions o;
  o.metadata = {{"containerd-namespace-ttrpc", "k8s.io"}, {"containerd-namespace-ttrpc", "x"}};
  auto r = client()->call("test.Echo", "Meta", "", o);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "k8s.io");  // the first of a repeated key
  auto none = client()->call("test.Echo", "Meta", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "<none>");
}

TEST_F(ServerTest, HandlerGetsItsDeadline) {
  CallOptions o;
  o.timeout = 5s;
  auto r = client()->call("test.Echo", "Deadline", "", o);
  ASSERT_TRUE(r);
  const int left = std::stoi(*r);
  EXPECT_GT(left, 0);
  EXPECT_LE(left, 5000);
  auto none = client()->call("test.Echo", "Deadline", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "none");
}

TEST_F(ServerTest, ContainerdTaskStateRoundTrip) {
  auto c = client();
  task::StateRequest req;
  req.set_id("c1");
  req.set_exec_id("e1");
  auto resp =
      c->call<task::StateRequest, task::StateResponse>("containerd.task.v2.Task", "State", req);
  ASSERT_TRUE(resp) << resp.error().what();
  EXPECT_EQ(resp->id(), "c1");
  EXPECT_EQ(resp->exec_id(), "e1");
  EXPECT_EQ(resp->pid(), 4242u);
  EXPECT_EQ(resp->status(), containerd::v1::types::RUNNING);
  EXPECT_EQ(resp->stdout(), "/run/containerd/fifo/1/c1-stdout");
  EXPECT_TRUE(resp->terminal());

  req.set_id("c2");
  auto missing =
      c->call<task::StateRequest, task::StateResponse>("containerd.task.v2.Task", "State", req);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::NotFound);
}

TEST_F(ServerTest, TypedHandlerRefusesAPayloadThatDoesNotDecode) {
  auto r = client()->call("containerd.task.v2.Task", "State", "\xff\xff\xff");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Internal);
  EXPECT_NE(r.error().message.find("containerd.task.v2.StateRequest"), std::string::npos);
}

// containerd keeps one connection per task and calls Kill/State while Wait
// blocks: a blocked handler must not hold up the next call.
TEST_F(ServerTest, BlockedCallDoesNotDelayAnotherOnTheSameConnection) {
  auto c = client();
  // The blocked call only ends when the gate opens (or after 20 s): if the
  // server ran calls one after another, no echo below could come back first.
  auto blocked = std::async(std::launch::async, [&] { return c->call("test.Echo", "Block", ""); });
  ASSERT_TRUE(gate_.wait_entered(1, 5s));
  for (int i = 0; i < 20; ++i) {
    auto r = c->call("test.Echo", "Echo", "kill " + std::to_string(i));
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "kill " + std::to_string(i));
  }
  EXPECT_EQ(blocked.wait_for(1s), std::future_status::timeout);  // still blocked
  {
    std::lock_guard l(gate_.mu);
    EXPECT_FALSE(gate_.open);
    EXPECT_EQ(gate_.stopped, 0);
  }
  gate_.release();
  auto r = blocked.get();
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(*r, "released");
}

TEST_F(ServerTest, ManyParallelCallsFromSeveralThreadsGetTheirOwnAnswers) {
  auto c = client();
  constexpr int kThreads = 8;
  constexpr int kCalls = 100;
  std::atomic<int> wrong = 0;
  std::atomic<int> failed = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        // Payloads of different sizes, so answers finish out of order.
        std::string p = std::to_string(t) + ":" + std::to_string(i) + ":" +
                        std::string(static_cast<size_t>((t * 7919 + i * 104729) % 70000), 'p');
        auto r = c->call("test.Echo", "Echo", p);
        if (!r) {
          ++failed;
        } else if (*r != p) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ServerTest, ExpiredDeadlineAnswersDeadlineExceededAndStopsTheHandler) {
  auto fd = raw();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(write_all(
      fd.get(),
      raw_frame(1, 1, request_body("test.Echo", "Block", "", (300ms).count() * 1000000))));
  auto resp = read_response(fd.get());
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status().code(), static_cast<int>(Code::DeadlineExceeded));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 15s);  // the handler alone would have blocked for 20 s
  std::unique_lock l(gate_.mu);
  EXPECT_TRUE(gate_.cv.wait_for(l, 5s, [&] { return gate_.stopped == 1; }));
}

TEST_F(ServerTest, ClientTimeoutReachesTheServer) {
  CallOptions o;
  o.timeout = 200ms;
  auto r = client()->call("test.Echo", "Block", "", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::DeadlineExceeded);
  std::unique_lock l(gate_.mu);
  EXPECT_TRUE(gate_.cv.wait_for(l, 5s, [&] { return gate_.stopped == 1; }));
}

TEST_F(ServerTest, NegativeTimeoutIsAlreadyExpired) {
  auto fd = raw();
  ASSERT_TRUE(write_all(fd.get(), raw_frame(1, 1, request_body("test.Echo", "Echo", "x", -1))));
  auto resp = read_response(fd.get());
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status().code(), static_cast<int>(Code::DeadlineExceeded));
}

TEST_F(ServerTest, SuccessCarriesStatusCodeZeroAsTtrpcGoDoes) {
  auto fd = raw();
  ASSERT_TRUE(write_all(fd.get(), raw_frame(1, 1, request_body("test.Echo", "Echo", "x"))));
  uint32_t id = 0;
  auto resp = read_response(fd.get(), &id);
  ASSERT_TRUE(resp);
  EXPECT_EQ(id, 1u);
  EXPECT_TRUE(resp->has_status());
  EXPECT_EQ(resp->status().code(), 0);
  EXPECT_EQ(resp->payload(), "x");
}

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
