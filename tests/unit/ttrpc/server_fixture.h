// The ttrpc server under test in server_test.cc and server_limits_test.cc:
// a service map of test handlers and a fixture serving it on a temp socket.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "raw_peer.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"
#include "ttrpc/socket.h"

namespace hull::ttrpc::test {

using namespace std::chrono_literals;
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

inline ServiceMap test_services(Gate& gate) {
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

}  // namespace hull::ttrpc::test
