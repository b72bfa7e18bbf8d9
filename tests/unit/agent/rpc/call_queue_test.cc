// The call queue (agent/rpc/call_queue.h) on a real gRPC server and client
// joined by a socketpair: streams and unary calls finished from the queue's
// thread or another, cancellation, the server's shutdown, and no gRPC thread
// that polls on a timer.
#include "agent/rpc/call_queue.h"

#include <dirent.h>
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/server_posix.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "agent.grpc.pb.h"

namespace hull::agent::rpc {
namespace {

using namespace std::chrono_literals;

using TestService =
    Agent::WithAsyncMethod_WaitProcess<Agent::WithAsyncMethod_ReadStdout<Agent::Service>>;

// What the reactors report to the test.
struct Probe {
  std::mutex mu;
  std::condition_variable cv;
  int cancelled = 0;
  int done = 0;
  std::function<void()> release;  // finishes a held call from the test's thread

  bool wait_done(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return done >= n; });
  }
  void bump(int Probe::*what) {
    std::lock_guard lock(mu);
    ++(this->*what);
    cv.notify_all();
  }
};

// Writes `count` chunks ("count", ..., "1"), each after the last one was
// taken, then finishes OK; with count < 0 it writes nothing and waits to be
// cancelled.
class CountdownStream final : public StreamReactor<IoChunk> {
 public:
  CountdownStream(int count, Probe& p) : left_(count), probe_(p) {
    if (left_ >= 0) next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::CANCELLED);
    next();
  }
  void OnCancel() override {
    probe_.bump(&Probe::cancelled);
    Finish(grpc::Status::CANCELLED);
  }
  void OnDone() override {
    probe_.bump(&Probe::done);
    delete this;
  }

 private:
  void next() {
    if (left_ == 0) return Finish(grpc::Status::OK);
    msg_.set_data(std::to_string(left_--));
    StartWrite(&msg_);
  }
  int left_;
  Probe& probe_;
  IoChunk msg_;
};

// Answers with exit status 7 when the probe's release() runs.
class HeldWait final : public UnaryReactor {
 public:
  HeldWait(WaitProcessResponse* reply, Probe& p) : probe_(p) {
    reply->set_exit_status(7);
    std::lock_guard lock(p.mu);
    p.release = [this] { Finish(grpc::Status::OK); };
    p.cv.notify_all();
  }
  void OnCancel() override { probe_.bump(&Probe::cancelled); }
  void OnDone() override {
    {
      std::lock_guard lock(probe_.mu);
      probe_.release = nullptr;
    }
    probe_.bump(&Probe::done);
    delete this;
  }

 private:
  Probe& probe_;
};

class CallQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder b;
    b.RegisterService(&service_);
    queue_ = std::make_unique<CallQueue>(b);
    server_ = b.BuildAndStart();
    ASSERT_TRUE(server_);
    queue_->serve_stream<ProcessRequest, IoChunk>(
        [this](grpc::ServerContext* ctx, ProcessRequest* req, grpc::ServerAsyncWriter<IoChunk>* w,
               grpc::CompletionQueue* cq, grpc::ServerCompletionQueue* ncq,
               void* tag) { service_.RequestReadStdout(ctx, req, w, cq, ncq, tag); },
        [this](grpc::ServerContext&, const ProcessRequest& req) {
          return new CountdownStream(std::stoi(req.exec_id()), probe_);
        });
    queue_->serve_unary<ProcessRequest, WaitProcessResponse>(
        [this](grpc::ServerContext* ctx, ProcessRequest* req,
               grpc::ServerAsyncResponseWriter<WaitProcessResponse>* w, grpc::CompletionQueue* cq,
               grpc::ServerCompletionQueue* ncq,
               void* tag) { service_.RequestWaitProcess(ctx, req, w, cq, ncq, tag); },
        [this](grpc::ServerContext&, const ProcessRequest&, WaitProcessResponse* reply) {
          return new HeldWait(reply, probe_);
        });
    queue_->start();
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    grpc::AddInsecureChannelFromFd(server_.get(), sv[0]);
    stub_ = Agent::NewStub(grpc::CreateInsecureChannelFromFd("test", sv[1]));
  }

  void TearDown() override { stop(); }

  void stop() {
    if (!server_) return;
    server_->Shutdown(std::chrono::system_clock::now() + 2s);
    server_->Wait();
    queue_->stop();
    server_.reset();
  }

  std::vector<std::string> read_stdout(int count, grpc::Status* st) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    ProcessRequest req;
    req.set_exec_id(std::to_string(count));
    auto reader = stub_->ReadStdout(&ctx, req);
    std::vector<std::string> got;
    IoChunk chunk;
    while (reader->Read(&chunk)) got.push_back(chunk.data());
    *st = reader->Finish();
    return got;
  }

  TestService service_;
  Probe probe_;
  std::unique_ptr<CallQueue> queue_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Agent::Stub> stub_;
};

TEST_F(CallQueueTest, AStreamDeliversEveryWriteInOrderThenItsStatus) {
  grpc::Status st;
  EXPECT_EQ(read_stdout(200, &st).size(), 200u);
  EXPECT_TRUE(st.ok()) << st.error_message();
  auto got = read_stdout(3, &st);
  EXPECT_EQ(got, (std::vector<std::string>{"3", "2", "1"}));
  EXPECT_TRUE(probe_.wait_done(2));
  EXPECT_EQ(probe_.cancelled, 0);
}

TEST_F(CallQueueTest, AStreamThatFinishesAtOnceEndsOk) {
  grpc::Status st;
  EXPECT_TRUE(read_stdout(0, &st).empty());
  EXPECT_TRUE(st.ok());
  EXPECT_TRUE(probe_.wait_done(1));
}

TEST_F(CallQueueTest, ACancelledIdleStreamIsToldAndEnds) {
  grpc::ClientContext ctx;
  ProcessRequest req;
  req.set_exec_id("-1");
  auto reader = stub_->ReadStdout(&ctx, req);
  std::this_thread::sleep_for(200ms);  // the call reaches the server
  ctx.TryCancel();
  IoChunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(probe_.wait_done(1));
  EXPECT_EQ(probe_.cancelled, 1);
}

TEST_F(CallQueueTest, AUnaryCallFinishedFromAnotherThreadSendsItsReply) {
  std::thread releaser([this] {
    std::unique_lock lock(probe_.mu);
    probe_.cv.wait_for(lock, 10s, [&] { return bool(probe_.release); });
    auto release = probe_.release;
    lock.unlock();
    if (release) release();
  });
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  WaitProcessResponse reply;
  grpc::Status st = stub_->WaitProcess(&ctx, ProcessRequest(), &reply);
  releaser.join();
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(reply.exit_status(), 7);
  EXPECT_TRUE(probe_.wait_done(1));
}

TEST_F(CallQueueTest, ShutdownEndsCallsStillOpen) {
  grpc::ClientContext ctx;
  ProcessRequest req;
  req.set_exec_id("-1");
  auto reader = stub_->ReadStdout(&ctx, req);
  std::this_thread::sleep_for(200ms);
  auto t0 = std::chrono::steady_clock::now();
  stop();  // the 2 s drain, then gRPC cancels the stream; the queue stops
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
  EXPECT_EQ(probe_.done, 1);
  IoChunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_FALSE(reader->Finish().ok());
}

// The callback API's alternative queue (gRPC 1.51) runs "nexting_thread"s
// that wake every 100-200 ms while idle; the call queue must not bring them.
TEST_F(CallQueueTest, ServingStartsNoPollingThreadOfTheCallbackApi) {
  grpc::Status st;
  EXPECT_EQ(read_stdout(2, &st).size(), 2u);
  std::set<std::string> names;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (dirent* e = ::readdir(d)) {
      std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
      std::string name;
      if (std::getline(comm, name)) names.insert(name);
    }
    ::closedir(d);
  }
  EXPECT_TRUE(names.contains("hull-calls"));
  EXPECT_FALSE(names.contains("nexting_thread"));
}

}  // namespace
}  // namespace hull::agent::rpc
