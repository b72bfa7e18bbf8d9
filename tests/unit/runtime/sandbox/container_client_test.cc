// ContainerClient against a lying agent: a gRPC service on a socketpair that
// answers with whatever the test sets. Every call must hand back a checked
// value or an error naming the field, never the guest's raw word.
#include "runtime/sandbox/container_client_impl.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "agent/proto/constants.h"

namespace hull::sandbox {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class LyingAgent final : public agent::Agent::Service {
 public:
  agent::WaitProcessResponse wait;
  agent::ListProcessesResponse processes;
  agent::StatsContainerResponse stats;
  agent::WriteStdinResponse written;
  std::vector<std::string> chunks;
  std::vector<std::string> oom_ids;
  grpc::Status start_status = grpc::Status::OK;
  bool hold = false;  // WaitProcess and ReadStdout answer only once cancelled
  std::atomic<int> waits{0};

  grpc::Status WaitProcess(grpc::ServerContext* ctx, const agent::ProcessRequest*,
                           agent::WaitProcessResponse* r) override {
    ++waits;
    if (hold_until_cancelled(ctx)) return grpc::Status::CANCELLED;
    *r = wait;
    return grpc::Status::OK;
  }
  grpc::Status ListProcesses(grpc::ServerContext*, const agent::ContainerRequest*,
                             agent::ListProcessesResponse* r) override {
    *r = processes;
    return grpc::Status::OK;
  }
  grpc::Status StatsContainer(grpc::ServerContext*, const agent::ContainerRequest*,
                              agent::StatsContainerResponse* r) override {
    *r = stats;
    return grpc::Status::OK;
  }
  grpc::Status WriteStdin(grpc::ServerContext*, const agent::WriteStdinRequest*,
                          agent::WriteStdinResponse* r) override {
    *r = written;
    return grpc::Status::OK;
  }
  grpc::Status StartContainer(grpc::ServerContext*, const agent::ContainerRequest*,
                              agent::Empty*) override {
    return start_status;
  }
  grpc::Status ReadStdout(grpc::ServerContext* ctx, const agent::ProcessRequest*,
                          grpc::ServerWriter<agent::IoChunk>* w) override {
    for (const auto& c : chunks) {
      agent::IoChunk chunk;
      chunk.set_data(c);
      if (!w->Write(chunk)) break;
    }
    if (hold_until_cancelled(ctx)) return grpc::Status::CANCELLED;
    return grpc::Status::OK;
  }
  grpc::Status OomEvents(grpc::ServerContext*, const agent::OomEventsRequest*,
                         grpc::ServerWriter<agent::OomEvent>* w) override {
    for (const auto& id : oom_ids) {
      agent::OomEvent e;
      e.set_container_id(id);
      if (!w->Write(e)) break;
    }
    return grpc::Status::OK;
  }

 private:
  // With `hold`: true once the client cancelled the call.
  bool hold_until_cancelled(grpc::ServerContext* ctx) const {
    if (!hold) return false;
    while (!ctx->IsCancelled()) std::this_thread::sleep_for(10ms);
    return true;
  }
};

class ContainerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder b;
    b.RegisterService(&agent_);
    server_ = b.BuildAndStart();
    ASSERT_TRUE(server_);
    int sv[2];
    // gRPC's server side takes the fd as it is, and it must not block.
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
    grpc::AddInsecureChannelFromFd(server_.get(), sv[1]);  // gRPC owns sv[1]
    client_.emplace(AgentClient::from_fd(UniqueFd(sv[0])));
    cc_.emplace(*client_);
  }
  void TearDown() override {
    cc_.reset();
    client_.reset();
    server_->Shutdown(std::chrono::system_clock::now() + 2s);
  }

  LyingAgent agent_;
  std::unique_ptr<grpc::Server> server_;
  std::optional<AgentClient> client_;
  std::optional<GrpcContainerClient> cc_;
};

TEST_F(ContainerClientTest, WaitReturnsAnHonestExit) {
  agent_.wait.set_exit_status(143);
  agent_.wait.set_signaled(true);
  agent_.wait.set_signal(15);
  auto w = cc_->wait("c", "", 5s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 143);
  EXPECT_TRUE(w->signaled);
  EXPECT_EQ(w->signal, 15);
}

TEST_F(ContainerClientTest, WaitRefusesAnOutOfRangeExitStatus) {
  agent_.wait.set_exit_status(70000);
  auto w = cc_->wait("c", "", 5s);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, Errc::GuestProtocol);
  EXPECT_EQ(w.error().msg, "agent reply WaitProcess: exit_status 70000 out of range (0-255)");
}

TEST_F(ContainerClientTest, ListProcessesIsChecked) {
  auto* p = agent_.processes.add_processes();
  p->set_pid(5);
  p->set_comm("sh");
  p->add_args("\x1b[2J");
  auto ps = cc_->list_processes("c", 5s);
  ASSERT_TRUE(ps) << ps.error().what();
  ASSERT_EQ(ps->size(), 1u);
  EXPECT_EQ((*ps)[0].args(0), "?[2J");
  agent_.processes.add_processes()->CopyFrom(*p);
  auto dup = cc_->list_processes("c", 5s);
  ASSERT_FALSE(dup);
  EXPECT_THAT(dup.error().msg, HasSubstr("pid 5 listed twice"));
}

TEST_F(ContainerClientTest, StatsRefusesACpuTimeThatWouldWrap) {
  agent_.stats.mutable_cgroup()->set_cpu_usage_usec(UINT64_MAX);
  auto s = cc_->stats("c", 5s);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().msg, HasSubstr("cgroup.cpu_usage_usec 18446744073709551615"));
  agent_.stats.mutable_cgroup()->set_cpu_usage_usec(42);
  s = cc_->stats("c", 5s);
  ASSERT_TRUE(s) << s.error().what();
  EXPECT_EQ(s->cpu_usage_usec(), 42u);
}

TEST_F(ContainerClientTest, WriteStdinRefusesMoreThanWasSent) {
  agent_.written.set_written(1000);
  std::string data = "hello";
  auto st = cc_->write_stdin("c", "", data, 5s);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().msg, HasSubstr("written 1000 of 5 bytes sent"));
  agent_.written.set_written(5);
  EXPECT_TRUE(cc_->write_stdin("c", "", data, 5s));
}

TEST_F(ContainerClientTest, ReadOutputStopsAtAnOversizedChunk) {
  agent_.chunks = {"ok", std::string(agent::kMaxIoChunkBytes + 1, 'x')};
  std::vector<std::string> got;
  auto st = cc_->read_output(
      "c", "", OutputStream::Stdout,
      [&](std::string_view c) -> Status {
        got.emplace_back(c);
        return {};
      },
      5s);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::GuestProtocol);
  EXPECT_THAT(st.error().msg, HasSubstr("agent reply ReadStdout: data size 1048577"));
  EXPECT_EQ(got, std::vector<std::string>{"ok"});
}

TEST_F(ContainerClientTest, FailedCallsCarryTheNamedErrcAndPrintableText) {
  agent_.start_status =
      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "paused\x1b[2J\n", "paused");
  auto st = cc_->start("c", 5s);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Paused);
  EXPECT_EQ(st.error().msg, "agent StartContainer: paused?[2J? (gRPC code 9)");
}

TEST_F(ContainerClientTest, OomEventsRefusesAnIdThatIsNoContainerId) {
  agent_.oom_ids = {"web", "../../etc"};
  auto r = cc_->oom_events(5s);
  ASSERT_TRUE(r);
  auto first = (*r)->next();
  ASSERT_TRUE(first) << first.error().what();
  EXPECT_EQ(**first, "web");
  auto second = (*r)->next();
  ASSERT_FALSE(second);
  EXPECT_THAT(second.error().msg, HasSubstr("container_id \"../../etc\" is not a container id"));
  auto end = (*r)->next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

// The shim's teardown: a wait blocked in the agent ends at once when its
// Canceller is cancelled from another thread, with an error that says so.
TEST_F(ContainerClientTest, ACancelledWaitReturnsPromptly) {
  agent_.hold = true;
  Canceller cancel;
  std::optional<Result<ExitStatus>> got;
  std::thread waiter([&] { got = cc_->wait("c", "", 60s, &cancel); });
  while (agent_.waits == 0) std::this_thread::sleep_for(5ms);  // the call is in the agent
  const auto t0 = std::chrono::steady_clock::now();
  cancel.cancel();
  waiter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ASSERT_TRUE(got);
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error().code, Errc::NotRunning);
  EXPECT_EQ(got->error().msg, "WaitProcess: cancelled");
}

// A call made after the cancel is not started at all.
TEST_F(ContainerClientTest, ACallAfterTheCancelIsNotMade) {
  Canceller cancel;
  cancel.cancel();
  auto w = cc_->wait("c", "", 5s, &cancel);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().msg, "WaitProcess: cancelled");
  EXPECT_EQ(agent_.waits, 0);
  auto st = cc_->close_stdin("c", "", 5s, &cancel);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().msg, "CloseStdin: cancelled");
}

TEST_F(ContainerClientTest, ACancelledOutputStreamEndsAfterWhatCame) {
  agent_.hold = true;
  agent_.chunks = {"before"};
  Canceller cancel;
  std::vector<std::string> got;
  bool first = false;
  std::mutex mu;
  std::condition_variable cv;
  Status st;
  std::thread reader([&] {
    st = cc_->read_output(
        "c", "", OutputStream::Stdout,
        [&](std::string_view c) -> Status {
          std::lock_guard lk(mu);
          got.emplace_back(c);
          first = true;
          cv.notify_all();
          return {};
        },
        60s, &cancel);
  });
  {
    std::unique_lock lk(mu);
    EXPECT_TRUE(cv.wait_for(lk, 10s, [&] { return first; }));  // then cancel all the same
  }
  cancel.cancel();
  reader.join();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().msg, "ReadStdout: cancelled");
  EXPECT_EQ(got, std::vector<std::string>{"before"});
}

}  // namespace
}  // namespace hull::sandbox
