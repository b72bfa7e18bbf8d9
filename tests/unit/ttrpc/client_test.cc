// hull's ttrpc client against a hand-written server on a socketpair
// (raw_peer.h), and against containerd's message types.
#include "ttrpc/client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <future>
#include <thread>
#include <vector>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "raw_peer.h"
#include "ttrpc/server.h"

namespace hull::ttrpc {
namespace {

using namespace std::chrono_literals;
using test::raw_frame;
using test::read_frame;
using test::write_all;

std::string response_body(const std::string& payload, int code = 0, const std::string& msg = "") {
  ::ttrpc::Response r;
  r.mutable_status()->set_code(code);
  r.mutable_status()->set_message(msg);
  r.set_payload(payload);
  return r.SerializeAsString();
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    peer_.reset(sv[1]);
    auto c = Client::adopt(UniqueFd(sv[0]), "test-peer");
    ASSERT_TRUE(c) << c.error().what();
    client_ = std::move(*c);
  }

  // Reads one request the client sent.
  std::pair<uint32_t, ::ttrpc::Request> next_request() {
    auto f = read_frame(peer_.get());
    EXPECT_TRUE(f);
    if (!f) return {};
    EXPECT_EQ(f->header.type, 1);
    ::ttrpc::Request req;
    EXPECT_TRUE(req.ParseFromString(f->body));
    return {f->header.stream_id, req};
  }

  UniqueFd peer_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, StreamIdsAreOddAndIncreasing) {
  std::vector<uint32_t> ids;
  for (int i = 0; i < 4; ++i) {
    auto f = std::async(std::launch::async, [&] { return client_->call("s.S", "M", "p"); });
    auto [id, req] = next_request();
    ids.push_back(id);
    EXPECT_EQ(req.service(), "s.S");
    EXPECT_EQ(req.method(), "M");
    EXPECT_EQ(req.payload(), "p");
    EXPECT_EQ(req.timeout_nano(), 0);
    ASSERT_TRUE(write_all(peer_.get(), raw_frame(id, 2, response_body("r"))));
    ASSERT_TRUE(f.get());
  }
  EXPECT_EQ(ids, (std::vector<uint32_t>{1, 3, 5, 7}));
}

TEST_F(ClientTest, AnswersInAnyOrderReachTheirCallers) {
  constexpr int kCalls = 6;
  std::vector<std::future<CallResult>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [this, i] {
      return client_->call("s.S", "Echo", "call" + std::to_string(i));
    }));
  }
  std::vector<std::pair<uint32_t, std::string>> reqs;
  for (int i = 0; i < kCalls; ++i) {
    auto [id, req] = next_request();
    reqs.emplace_back(id, req.payload());
  }
  std::reverse(reqs.begin(), reqs.end());
  std::string all;  // every answer in one write, last request first
  for (auto& [id, payload] : reqs) all += raw_frame(id, 2, response_body("re:" + payload));
  ASSERT_TRUE(write_all(peer_.get(), all));
  for (int i = 0; i < kCalls; ++i) {
    auto r = calls[static_cast<size_t>(i)].get();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "re:call" + std::to_string(i));
  }
}

TEST_F(ClientTest, ErrorStatusBecomesTheCallsError) {
  auto f = std::async(std::launch::async, [&] { return client_->call("s.S", "M", ""); });
  auto [id, req] = next_request();
  ASSERT_TRUE(
      write_all(peer_.get(), raw_frame(id, 2, response_body("", 9, "container is paused"))));
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::FailedPrecondition);
  EXPECT_EQ(r.error().message, "container is paused");
}

TEST_F(ClientTest, ResponseWithoutStatusIsSuccess) {
  auto f = std::async(std::launch::async, [&] { return client_->call("s.S", "M", ""); });
  auto [id, req] = next_request();
  ::ttrpc::Response r;
  r.set_payload("no status");
  ASSERT_TRUE(write_all(peer_.get(), raw_frame(id, 2, r.SerializeAsString())));
  auto out = f.get();
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "no status");
}

TEST_F(ClientTest, TimeoutIsSentAndEnforced) {
  CallOptions o;
  o.timeout = 300ms;
  o.metadata = {{"containerd-namespace-ttrpc", "default"}};
  const auto t0 = std::chrono::steady_clock::now();
  auto f = std::async(std::launch::async, [&] { return client_->call("s.S", "Slow", "", o); });
  auto [id, req] = next_request();
  EXPECT_EQ(req.timeout_nano(), 300'000'000);
  ASSERT_EQ(req.metadata_size(), 1);
  EXPECT_EQ(req.metadata(0).key(), "containerd-namespace-ttrpc");
  EXPECT_EQ(req.metadata(0).value(), "default");
  auto r = f.get();  // the peer never answers
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::DeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  // A late answer is dropped; the connection carries on.
  ASSERT_TRUE(write_all(peer_.get(), raw_frame(id, 2, response_body("late"))));
  auto g = std::async(std::launch::async, [&] { return client_->call("s.S", "M", ""); });
  auto [id2, req2] = next_request();
  ASSERT_TRUE(write_all(peer_.get(), raw_frame(id2, 2, response_body("on time"))));
  auto r2 = g.get();
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, "on time");
}

TEST_F(ClientTest, PeerClosingFailsEveryPendingCall) {
  std::vector<std::future<CallResult>> calls;
  for (int i = 0; i < 5; ++i) {
    calls.push_back(
        std::async(std::launch::async, [this] { return client_->call("s.S", "Wait", ""); }));
  }
  for (int i = 0; i < 5; ++i) next_request();
  peer_.reset();
  for (auto& c : calls) {
    auto r = c.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::Unavailable);
    EXPECT_NE(r.error().message.find("test-peer closed by the peer"), std::string::npos)
        << r.error().message;
  }
  EXPECT_TRUE(client_->closed());
  auto later = client_->call("s.S", "M", "");
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, Code::Unavailable);
}

TEST_F(ClientTest, PeerDyingMidFrameSaysSo) {
  auto f = std::async(std::launch::async, [&] { return client_->call("s.S", "M", ""); });
  auto [id, req] = next_request();
  ASSERT_TRUE(write_all(peer_.get(), raw_frame(id, 2, "abc", 100)));  // says 100, sends 3
  peer_.reset();
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Unavailable);
  EXPECT_NE(r.error().message.find("middle of a frame"), std::string::npos) << r.error().message;
}

TEST_F(ClientTest, OversizedAnswerFailsThatCallOnly) {
  auto f = std::async(std::launch::async, [&] { return client_->call("s.S", "Big", ""); });
  auto [id, req] = next_request();
  std::thread writer([&, id = id] {
    write_all(peer_.get(), raw_frame(id, 2, std::string(kMaxMessageLength + 1, 'x')));
  });
  auto r = f.get();
  writer.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::ResourceExhausted);
  auto g = std::async(std::launch::async, [&] { return client_->call("s.S", "M", ""); });
  auto [id2, req2] = next_request();
  ASSERT_TRUE(write_all(peer_.get(), raw_frame(id2, 2, response_body("fine"))));
  auto r2 = g.get();
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, "fine");
}

TEST_F(ClientTest, FrameThatIsNotAResponseFailsTheCall) {
  auto f = std::async(std::launch::async, [&] { return client_->call("s.S", "M", ""); });
  auto [id, req] = next_request();
  ASSERT_TRUE(write_all(peer_.get(), raw_frame(id, 1, "")));
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Internal);
}

TEST_F(ClientTest, RequestOverFourMebibytesIsNotSent) {
  auto r = client_->call("s.S", "M", std::string(kMaxMessageLength, 'x'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::ResourceExhausted);
  EXPECT_FALSE(client_->closed());
}

TEST_F(ClientTest, CloseFailsPendingCalls) {
  auto f = std::async(std::launch::async, [&] { return client_->call("s.S", "Wait", ""); });
  next_request();
  client_->close();
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Unavailable);
  EXPECT_NE(r.error().message.find("closed by this side"), std::string::npos);
}

TEST(ClientConnect, MissingSocketIsNotRunning) {
  test::TempDir dir;
  auto c = Client::connect(dir / "nobody-here.sock");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::NotRunning);
  EXPECT_NE(c.error().what().find("nobody-here.sock"), std::string::npos);
}

TEST(ClientConnect, AddressForms) {
  EXPECT_EQ(socket_path("unix:///run/containerd/containerd.sock.ttrpc").value(),
            "/run/containerd/containerd.sock.ttrpc");
  EXPECT_EQ(socket_path("/run/x.sock").value(), "/run/x.sock");
  EXPECT_EQ(socket_path("tcp://1.2.3.4:5").error().code, Errc::Invalid);
  EXPECT_EQ(socket_path("").error().code, Errc::Invalid);
  EXPECT_EQ(socket_path("unix://").error().code, Errc::Invalid);
  EXPECT_EQ(socket_path("/" + std::string(107, 'a')).error().code, Errc::Invalid);
  EXPECT_TRUE(socket_path("/" + std::string(106, 'a')));
}

// The event the shim sends containerd, through hull's own server: the
// generated containerd types encode and decode as the Forward call needs.
TEST(ClientEvents, ForwardTaskCreateRoundTrip) {
  namespace ev = containerd::services::events::ttrpc::v1;
  test::TempDir dir;
  ServiceMap services;
  std::promise<containerd::events::TaskCreate> seen;
  services.add_typed<ev::ForwardRequest, google::protobuf::Empty>(
      "containerd.services.events.ttrpc.v1.Events", "Forward",
      [&](const CallContext&,
          const ev::ForwardRequest& req) -> std::expected<google::protobuf::Empty, RpcError> {
        const auto& env = req.envelope();
        if (env.topic() != "/tasks/create" || env.namespace_() != "default" ||
            env.event().type_url() != "containerd.events.TaskCreate") {
          return rpc_fail(Code::InvalidArgument, "unexpected envelope " + env.ShortDebugString());
        }
        containerd::events::TaskCreate tc;
        if (!tc.ParseFromString(env.event().value())) {
          return rpc_fail(Code::InvalidArgument, "event is not a TaskCreate");
        }
        seen.set_value(tc);
        return google::protobuf::Empty();
      });
  auto server = Server::listen(dir / "events.sock", std::move(services));
  ASSERT_TRUE(server) << server.error().what();
  auto client = Client::connect("unix://" + (dir / "events.sock"));
  ASSERT_TRUE(client) << client.error().what();

  containerd::events::TaskCreate tc;
  tc.set_container_id("c1");
  tc.set_bundle("/run/containerd/io.containerd.runtime.v2.task/default/c1");
  tc.set_pid(4242);
  tc.mutable_io()->set_stdout("/run/containerd/fifo/c1-stdout");
  auto* m = tc.add_rootfs();
  m->set_type("overlay");
  m->set_source("overlay");
  m->add_options("lowerdir=/a:/b");
  ev::ForwardRequest req;
  auto* env = req.mutable_envelope();
  env->mutable_timestamp()->set_seconds(1700000000);
  env->set_namespace_("default");
  env->set_topic("/tasks/create");
  env->mutable_event()->set_type_url("containerd.events.TaskCreate");  // bare, as typeurl 1.0
  env->mutable_event()->set_value(tc.SerializeAsString());
  CallOptions o;
  o.timeout = 5s;
  auto r = (*client)->call<ev::ForwardRequest, google::protobuf::Empty>(
      "containerd.services.events.ttrpc.v1.Events", "Forward", req, o);
  ASSERT_TRUE(r) << r.error().what();
  auto got = seen.get_future().get();
  EXPECT_EQ(got.container_id(), "c1");
  EXPECT_EQ(got.pid(), 4242u);
  ASSERT_EQ(got.rootfs_size(), 1);
  EXPECT_EQ(got.rootfs(0).options(0), "lowerdir=/a:/b");
  EXPECT_EQ(got.io().stdout(), "/run/containerd/fifo/c1-stdout");
}

}  // namespace
}  // namespace hull::ttrpc
