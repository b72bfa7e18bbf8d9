// The host's AgentClient against the agent's real service, over a unix
// socket instead of vsock (the fd transport does not care).
#include "runtime/sandbox/agent_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/rpc/server.h"
#include "common/unix_socket.h"
#include "runtime/vm/launcher.h"

namespace hull::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class AgentClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-agent-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directory(dir_ + "/shared");
    sock_ = dir_ + "/agent.sock";
    auto l = listen_unix(sock_, 4);
    ASSERT_TRUE(l);
    agent::rpc::ServerOptions o;
    o.shared_dir = dir_ + "/shared";
    server_ = std::thread([this, fd = std::move(*l), o]() mutable {
      served_ = agent::rpc::serve_until_destroyed(std::move(fd), o);
    });
  }
  void TearDown() override {
    if (server_.joinable()) {
      // Make sure the server ends even if a test did not destroy it.
      auto c = connect();
      (void)c.destroy_sandbox(2000ms);
      server_.join();
    }
    fs::remove_all(dir_);
  }

  AgentClient connect() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, sock_.c_str());
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return AgentClient::from_fd(std::move(fd));
  }

  std::string dir_, sock_;
  std::thread server_;
  Status served_;
};

TEST_F(AgentClientTest, HealthAndGuestDetails) {
  auto c = connect();
  EXPECT_TRUE(c.health());
  auto d = c.guest_details();
  ASSERT_TRUE(d) << d.error().what();
  EXPECT_FALSE(d->kernel_release().empty());
  EXPECT_FALSE(d->agent_version().empty());
  EXPECT_GT(d->mem_total_kib(), 0u);
  EXPECT_GT(d->online_cpus(), 0u);
  EXPECT_LE(d->agent_ready_boottime_ns(), d->now_boottime_ns());
}

TEST_F(AgentClientTest, ReadSharedFileStaysInsideShared) {
  std::ofstream(dir_ + "/shared/a.txt") << "0123456789";
  std::ofstream(dir_ + "/secret") << "secret";
  fs::create_symlink(dir_ + "/secret", dir_ + "/shared/abs-link");
  fs::create_symlink("../secret", dir_ + "/shared/rel-link");
  fs::create_directory(dir_ + "/shared/sub");
  auto c = connect();

  auto r = c.read_shared_file("a.txt", 4);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->data(), "0123");
  EXPECT_EQ(r->size(), 10u);

  for (const char* bad : {"../secret", "abs-link", "rel-link", "/etc/passwd", "sub", ""}) {
    auto e = c.read_shared_file(bad, 100);
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().code, Errc::Invalid) << bad << ": " << e.error().what();
  }
  auto missing = c.read_shared_file("missing", 100);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
}

TEST_F(AgentClientTest, DestroySandboxIsAnsweredThenTheServerEnds) {
  auto c = connect();
  EXPECT_TRUE(c.destroy_sandbox());
  server_.join();
  EXPECT_TRUE(served_);
  auto after = c.health(1000ms);
  ASSERT_FALSE(after);
  EXPECT_TRUE(after.error().code == Errc::NotRunning || after.error().code == Errc::Timeout)
      << after.error().what();
}

TEST_F(AgentClientTest, UnimplementedCallsSayUnsupported) {
  auto c = connect();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 2s);
  agent::Empty out;
  agent::ContainerRequest req;
  grpc::Status st = c.stub().PauseContainer(&ctx, req, &out);
  EXPECT_EQ(error_from_grpc(st, "PauseContainer").code, Errc::Unsupported);
}

TEST(ErrorFromGrpc, MapsCodesAndCapsGuestText) {
  EXPECT_EQ(error_from_grpc(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, ""), "x").code,
            Errc::Timeout);
  EXPECT_EQ(error_from_grpc(grpc::Status(grpc::StatusCode::UNAVAILABLE, ""), "x").code,
            Errc::NotRunning);
  EXPECT_EQ(error_from_grpc(grpc::Status(grpc::StatusCode::INTERNAL, ""), "x").code,
            Errc::GuestProtocol);
  auto e = error_from_grpc(grpc::Status(grpc::StatusCode::INTERNAL, std::string(10000, 'x')), "x");
  EXPECT_LT(e.msg.size(), 700u);
}

TEST(AgentClientDeadline, SilentPeerTimesOut) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd peer(sv[1]);  // never answers
  auto c = AgentClient::from_fd(UniqueFd(sv[0]));
  auto t0 = std::chrono::steady_clock::now();
  auto h = c.health(300ms);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::Timeout) << h.error().what();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

}  // namespace
}  // namespace hull::sandbox
