// hull's ttrpc server, driven by hull's client and by a hand-written peer
// (raw_peer.h): calls, statuses, metadata and deadlines.
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

}  // namespace
}  // namespace hull::ttrpc
