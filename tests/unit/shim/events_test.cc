#include "shim/events.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "raw_peer.h"  // TempDir
#include "ttrpc/server.h"

namespace hull::shim {
namespace {

using namespace std::chrono_literals;
namespace evapi = containerd::services::events::ttrpc::v1;

TEST(ShimEvents, ForwardRequestCarriesTheEnvelope) {
  Event e{"/tasks/exit", "containerd.events.TaskExit", "payload",
          std::chrono::system_clock::time_point(std::chrono::seconds(1700000000) +
                                                std::chrono::nanoseconds(5))};
  auto req = forward_request("k8s.io", e);
  EXPECT_EQ(req.envelope().namespace_(), "k8s.io");
  EXPECT_EQ(req.envelope().topic(), "/tasks/exit");
  EXPECT_EQ(req.envelope().event().type_url(), "containerd.events.TaskExit");
  EXPECT_EQ(req.envelope().event().value(), "payload");
  EXPECT_EQ(req.envelope().timestamp().seconds(), 1700000000);
  EXPECT_EQ(req.envelope().timestamp().nanos(), 5);
}

// containerd's Events service, as far as the shim sees it.
struct FakeContainerd {
  struct Seen {
    std::string ns_metadata;
    evapi::Envelope env;
  };
  std::mutex mu;
  std::vector<Seen> seen;
  bool refuse = false;

  ttrpc::ServiceMap services() {
    ttrpc::ServiceMap m;
    m.add_typed<evapi::ForwardRequest, google::protobuf::Empty>(
        std::string(kEventsService), "Forward",
        [this](const ttrpc::CallContext& ctx, const evapi::ForwardRequest& r)
            -> std::expected<google::protobuf::Empty, ttrpc::RpcError> {
          std::lock_guard lk(mu);
          if (refuse) {
            refuse = false;
            return std::unexpected(ttrpc::RpcError{ttrpc::Code::InvalidArgument, "bad topic"});
          }
          seen.push_back(
              {std::string(ctx.metadata_value(kNamespaceKey).value_or("")), r.envelope()});
          return google::protobuf::Empty();
        });
    return m;
  }
  std::vector<std::string> topics() {
    std::lock_guard lk(mu);
    std::vector<std::string> t;
    for (const auto& s : seen) t.push_back(s.env.topic());
    return t;
  }
};

containerd::events::TaskStart start_event(const std::string& id) {
  containerd::events::TaskStart ev;
  ev.set_container_id(id);
  ev.set_pid(42);
  return ev;
}

TEST(ShimEvents, PublishedInOrderWithTheNamespace) {
  ttrpc::test::TempDir dir;
  FakeContainerd fake;
  auto server = ttrpc::Server::listen(dir / "c.sock", fake.services());
  ASSERT_TRUE(server) << server.error().what();
  Publisher pub("unix://" + (dir / "c.sock"), "ns1");
  containerd::events::TaskCreate create;
  create.set_container_id("c1");
  pub.publish(kTopicCreate, create);
  pub.publish(kTopicStart, start_event("c1"));
  containerd::events::TaskExit exit;
  exit.set_container_id("c1");
  exit.set_exit_status(137);
  pub.publish(kTopicExit, exit);
  ASSERT_TRUE(pub.flush(10s));
  EXPECT_EQ(fake.topics(),
            (std::vector<std::string>{"/tasks/create", "/tasks/start", "/tasks/exit"}));
  std::lock_guard lk(fake.mu);
  EXPECT_EQ(fake.seen[0].ns_metadata, "ns1");
  EXPECT_EQ(fake.seen[0].env.namespace_(), "ns1");
  EXPECT_EQ(fake.seen[1].env.event().type_url(), "containerd.events.TaskStart");
  containerd::events::TaskExit back;
  ASSERT_TRUE(back.ParseFromString(fake.seen[2].env.event().value()));
  EXPECT_EQ(back.exit_status(), 137u);
  EXPECT_GT(fake.seen[2].env.timestamp().seconds(), 0);
}

// containerd not listening yet (or restarting): the event waits and goes
// once it is back.
TEST(ShimEvents, RetriesUntilContainerdListens) {
  ttrpc::test::TempDir dir;
  FakeContainerd fake;
  Publisher pub("unix://" + (dir / "c.sock"), "ns1");
  pub.publish(kTopicStart, start_event("late"));
  std::this_thread::sleep_for(250ms);
  auto server = ttrpc::Server::listen(dir / "c.sock", fake.services());
  ASSERT_TRUE(server) << server.error().what();
  ASSERT_TRUE(pub.flush(10s));
  EXPECT_EQ(fake.topics(), std::vector<std::string>{"/tasks/start"});
}

// An event containerd refuses is not retried, and does not hold up the next.
TEST(ShimEvents, RefusedEventIsDroppedAndTheNextGoes) {
  ttrpc::test::TempDir dir;
  FakeContainerd fake;
  fake.refuse = true;
  auto server = ttrpc::Server::listen(dir / "c.sock", fake.services());
  ASSERT_TRUE(server) << server.error().what();
  Publisher pub("unix://" + (dir / "c.sock"), "ns1");
  pub.publish(kTopicStart, start_event("refused"));
  pub.publish(kTopicStart, start_event("second"));
  ASSERT_TRUE(pub.flush(10s));
  std::lock_guard lk(fake.mu);
  ASSERT_EQ(fake.seen.size(), 1u);
  containerd::events::TaskStart back;
  ASSERT_TRUE(back.ParseFromString(fake.seen[0].env.event().value()));
  EXPECT_EQ(back.container_id(), "second");
}

TEST(ShimEvents, FlushGivesUpAfterItsTimeout) {
  ttrpc::test::TempDir dir;
  Publisher pub("unix://" + (dir / "nobody.sock"), "ns1");
  pub.publish(kTopicStart, start_event("lost"));
  EXPECT_FALSE(pub.flush(200ms));
}

}  // namespace
}  // namespace hull::shim
