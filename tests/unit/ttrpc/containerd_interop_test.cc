// hull's ttrpc client against the real peer: a private containerd 1.6
// (Debian's) with its root, state and sockets under a temp dir, started in a
// network namespace and mount namespace of its own (a tmpfs on /run, as
// tests/e2e/lib/containerd.bash does). The shim's Events/Forward path:
// a TaskCreate forwarded over ttrpc must come out of `ctr events`.
// Skips when containerd or ctr is not installed, or without root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "common/child_process.h"
#include "common/spawn.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "raw_peer.h"
#include "ttrpc/client.h"
#include "ttrpc/socket.h"

namespace hull::ttrpc {
namespace {

using namespace std::chrono_literals;
namespace ev = containerd::services::events::ttrpc::v1;

constexpr const char* kEvents = "containerd.services.events.ttrpc.v1.Events";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename F>
bool wait_until(std::chrono::milliseconds timeout, F ok) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return ok();
}

ev::ForwardRequest task_create(const std::string& ns, const std::string& topic,
                               const std::string& id) {
  containerd::events::TaskCreate tc;
  tc.set_container_id(id);
  tc.set_bundle("/run/containerd/io.containerd.runtime.v2.task/" + ns + "/" + id);
  tc.set_pid(4242);
  tc.mutable_io()->set_stdout("/run/containerd/fifo/" + id + "-stdout");
  ev::ForwardRequest req;
  auto* env = req.mutable_envelope();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  env->mutable_timestamp()->set_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(now).count());
  env->set_namespace_(ns);
  env->set_topic(topic);
  env->mutable_event()->set_type_url("containerd.events.TaskCreate");  // bare, as typeurl 1.0
  env->mutable_event()->set_value(tc.SerializeAsString());
  return req;
}

class ContainerdInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run containerd";
    for (const char* bin : {"/usr/bin/containerd", "/usr/bin/ctr", "/usr/bin/unshare"}) {
      if (::access(bin, X_OK) != 0) GTEST_SKIP() << bin << " is not installed";
    }
    const std::string d = dir_.path();
    std::ofstream(d + "/config.toml") << "version = 2\n"
                                      << "root = \"" << d << "/root\"\n"
                                      << "state = \"" << d << "/state\"\n"
                                      << "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
                                      << "[grpc]\n  address = \"" << grpc_ << "\"\n"
                                      << "[ttrpc]\n  address = \"" << ttrpc_ << "\"\n"
                                      << "[debug]\n  level = \"info\"\n"
                                      << "[plugins.\"io.containerd.internal.v1.opt\"]\n"
                                      << "  path = \"" << d << "/opt\"\n";
    // A network namespace of its own (nothing but a downed loopback), and a
    // private /run so nothing lands on the host's.
    auto log = open_output_log(log_);
    ASSERT_TRUE(log) << log.error().what();
    auto c = spawn(
        "containerd",
        {.argv = {"/usr/bin/unshare", "--net", "--mount", "--propagation", "private", "--", "sh",
                  "-c", "mount -t tmpfs -o mode=755 tmpfs /run && exec containerd --config \"$1\"",
                  "sh", d + "/config.toml"},
         .fds = {{log->get(), 1}, {log->get(), 2}}});
    ASSERT_TRUE(c) << c.error().what();
    containerd_ = std::move(*c);
    ASSERT_TRUE(wait_until(
        30s, [&] { return std::filesystem::exists(ttrpc_) && std::filesystem::exists(grpc_); }))
        << "containerd did not come up; its log:\n"
        << slurp(log_);
  }

  void TearDown() override {
    events_.kill_and_reap();
    if (containerd_.valid()) {
      (void)containerd_.signal(SIGTERM);
      if (!containerd_.wait_for(30s)) containerd_.kill_and_reap();
    }
  }

  // `ctr events` printing to events_log_.
  void start_ctr_events() {
    auto log = open_output_log(events_log_);
    ASSERT_TRUE(log) << log.error().what();
    auto e = spawn("ctr events", {.argv = {"/usr/bin/ctr", "--address", grpc_, "events"},
                                  .fds = {{log->get(), 1}, {log->get(), 2}}});
    ASSERT_TRUE(e) << e.error().what();
    events_ = std::move(*e);
  }

  test::TempDir dir_;
  std::string grpc_ = dir_ / "containerd.sock";
  std::string ttrpc_ = dir_ / "containerd.sock.ttrpc";
  std::string log_ = dir_ / "containerd.log";
  std::string events_log_ = dir_ / "events.log";
  ChildProcess containerd_;
  ChildProcess events_;
};

TEST_F(ContainerdInterop, ForwardedTaskCreateComesOutOfCtrEvents) {
  start_ctr_events();
  auto client = Client::connect("unix://" + ttrpc_);
  ASSERT_TRUE(client) << client.error().what();
  CallOptions o;
  o.timeout = 5s;  // as the Go shim's publisher
  // ctr events subscribes some time after it starts: forward until it shows
  // one (each try under its own container id).
  bool seen = false;
  std::string id;
  for (int attempt = 0; attempt < 30 && !seen; ++attempt) {
    id = "hull-interop-" + std::to_string(attempt);
    auto r = (*client)->call<ev::ForwardRequest, google::protobuf::Empty>(
        kEvents, "Forward", task_create("hull-ns", "/tasks/create", id), o);
    ASSERT_TRUE(r) << r.error().what() << "\ncontainerd's log:\n" << slurp(log_);
    seen = wait_until(1s, [&] { return slurp(events_log_).find(id) != std::string::npos; });
  }
  const std::string out = slurp(events_log_);
  ASSERT_TRUE(seen) << "ctr events printed:\n" << out << "\ncontainerd's log:\n" << slurp(log_);
  // "<time> hull-ns /tasks/create {"container_id":"hull-interop-N",...,"pid":4242}"
  std::string line;
  std::istringstream lines(out);
  while (std::getline(lines, line) && line.find(id) == std::string::npos) {
  }
  std::cout << "ctr events printed: " << line << "\n";
  EXPECT_NE(line.find(" hull-ns "), std::string::npos) << line;
  EXPECT_NE(line.find(" /tasks/create "), std::string::npos) << line;
  EXPECT_NE(line.find("4242"), std::string::npos) << line;
  EXPECT_NE(line.find(id + "-stdout"), std::string::npos) << line;
}

TEST_F(ContainerdInterop, ContainerdsErrorsArriveAsStatusCodes) {
  auto client = Client::connect(ttrpc_);
  ASSERT_TRUE(client) << client.error().what();
  CallOptions o;
  o.timeout = 5s;
  // containerd validates the envelope: a topic must start with "/".
  auto bad = (*client)->call<ev::ForwardRequest, google::protobuf::Empty>(
      kEvents, "Forward", task_create("hull-ns", "tasks create", "x"), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::InvalidArgument) << bad.error().what();
  // ttrpc-go's own answers: unknown method and unknown service.
  auto method = (*client)->call(kEvents, "Nope", "", o);
  ASSERT_FALSE(method);
  EXPECT_EQ(method.error().code, Code::Unimplemented) << method.error().what();
  auto service = (*client)->call("containerd.task.v2.Task", "State", "", o);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().code, Code::Unimplemented) << service.error().what();
  // None of it closed the connection.
  auto after = (*client)->call<ev::ForwardRequest, google::protobuf::Empty>(
      kEvents, "Forward", task_create("hull-ns", "/tasks/create", "after-errors"), o);
  EXPECT_TRUE(after) << after.error().what();
}

// What docs/ttrpc.md says ttrpc-go does with a frame over 4 MiB, checked on
// the real server: it skips the body, answers RESOURCE_EXHAUSTED on that
// stream, and keeps the connection.
TEST_F(ContainerdInterop, FrameOverFourMebibytesIsRefusedAndTheConnectionStays) {
  auto fd = connect_unix(ttrpc_);
  ASSERT_TRUE(fd) << fd.error().what();
  const std::string forward = test::request_body(
      kEvents, "Forward", task_create("hull-ns", "/tasks/create", "after-big").SerializeAsString());
  std::thread writer([&] {
    test::write_all(fd->get(), test::raw_frame(1, 1, std::string(kMaxMessageLength + 1, 'b')));
    test::write_all(fd->get(), test::raw_frame(3, 1, forward));
  });
  uint32_t id = 0;
  auto refused = test::read_response(fd->get(), &id);
  writer.join();
  ASSERT_TRUE(refused) << "containerd's log:\n" << slurp(log_);
  EXPECT_EQ(id, 1u);
  EXPECT_EQ(refused->status().code(), static_cast<int>(Code::ResourceExhausted))
      << refused->status().message();
  auto next = test::read_response(fd->get(), &id);
  ASSERT_TRUE(next);
  EXPECT_EQ(id, 3u);
  EXPECT_EQ(next->status().code(), 0) << next->status().message();
}

}  // namespace
}  // namespace hull::ttrpc
