#include "runtime/vm/qmp.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace hull::vm {
namespace {

using namespace std::chrono_literals;

TEST(ParseQmp, EachKind) {
  auto g = parse_qmp_message(R"({"QMP": {"version": {}, "capabilities": []}})");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, QmpKind::Greeting);
  auto r = parse_qmp_message(R"({"return": {"status": "running"}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, QmpKind::Return);
  EXPECT_EQ(r->value["status"], "running");
  auto e = parse_qmp_message(R"({"error": {"class": "GenericError", "desc": "nope"}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, QmpKind::Error);
  EXPECT_EQ(e->error_class, "GenericError");
  EXPECT_EQ(e->error_desc, "nope");
  auto ev = parse_qmp_message(R"({"event": "SHUTDOWN", "data": {}})");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->kind, QmpKind::Event);
  EXPECT_EQ(ev->event, "SHUTDOWN");
}

TEST(ParseQmp, Rejects) {
  for (const char* bad :
       {"not json", "[1,2]", "{}", R"({"error": 3})", R"({"event": 1})", "{\"return\": "}) {
    auto m = parse_qmp_message(bad);
    ASSERT_FALSE(m) << bad;
    EXPECT_EQ(m.error().code, Errc::GuestProtocol) << bad;
  }
}

// A scripted QMP server on one end of a socketpair: for each expected
// request line it sends the given replies. Records what it received.
class FakeQmp {
 public:
  struct Step {
    std::string expect_execute;        // "" for the greeting step
    std::vector<std::string> replies;  // raw lines (without "\r\n")
    bool close_after = false;
  };

  explicit FakeQmp(std::vector<Step> steps) : steps_(std::move(steps)) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    client_ = UniqueFd(sv[0]);
    server_ = UniqueFd(sv[1]);
    thread_ = std::thread([this] { run(); });
  }
  ~FakeQmp() { thread_.join(); }

  UniqueFd take_client() { return std::move(client_); }
  std::vector<std::string> received;

 private:
  void send_line(const std::string& s) {
    std::string l = s + "\r\n";
    (void)!::write(server_.get(), l.data(), l.size());
  }
  std::string read_line() {
    std::string line;
    char c;
    while (::read(server_.get(), &c, 1) == 1) {
      if (c == '\n') return line;
      line += c;
    }
    return line;
  }
  void run() {
    for (const auto& step : steps_) {
      if (!step.expect_execute.empty()) {
        std::string line = read_line();
        received.push_back(line);
      }
      for (const auto& r : step.replies) send_line(r);
      if (step.close_after) {
        server_.reset();
        return;
      }
    }
    // Wait for the client to hang up.
    char c;
    while (::read(server_.get(), &c, 1) > 0) {
    }
  }

  std::vector<Step> steps_;
  UniqueFd client_, server_;
  std::thread thread_;
};

const char* kGreeting = R"({"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}})";

TEST(QmpClient, HandshakeStatusPowerdownQuit) {
  FakeQmp fake({{"", {kGreeting}},
                {"qmp_capabilities", {R"({"return": {}})"}},
                {"query-status",
                 {R"({"event": "RTC_CHANGE", "data": {}})",
                  R"({"return": {"status": "running", "running": true}})"}},
                {"system_powerdown", {R"({"return": {}})"}},
                {"quit", {R"({"return": {}})"}, true}});
  {
    auto c = QmpClient::handshake(fake.take_client(), 2000ms);
    ASSERT_TRUE(c) << c.error().what();
    auto st = c->query_status();
    ASSERT_TRUE(st) << st.error().what();
    EXPECT_EQ(*st, "running");
    EXPECT_TRUE(c->system_powerdown());
    EXPECT_TRUE(c->quit());
  }
  ASSERT_EQ(fake.received.size(), 4u);
  EXPECT_EQ(fake.received[0], R"({"execute":"qmp_capabilities"})");
  EXPECT_EQ(fake.received[1], R"({"execute":"query-status"})");
}

TEST(QmpClient, QuitAnsweredByHangupIsSuccess) {
  FakeQmp fake(
      {{"", {kGreeting}}, {"qmp_capabilities", {R"({"return": {}})"}}, {"quit", {}, true}});
  auto c = QmpClient::handshake(fake.take_client(), 2000ms);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->quit());
}

TEST(QmpClient, ErrorReplyBecomesError) {
  FakeQmp fake({{"", {kGreeting}},
                {"qmp_capabilities", {R"({"return": {}})"}},
                {"query-status", {R"({"error": {"class": "GenericError", "desc": "boom"}})"}}});
  auto c = QmpClient::handshake(fake.take_client(), 2000ms);
  ASSERT_TRUE(c);
  auto st = c->query_status();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().msg.find("boom"), std::string::npos);
}

TEST(QmpClient, MissingGreetingIsProtocolError) {
  FakeQmp fake(std::vector<FakeQmp::Step>{{"", {R"({"return": {}})"}}});
  auto c = QmpClient::handshake(fake.take_client(), 2000ms);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::GuestProtocol);
}

TEST(QmpClient, SilentPeerTimesOut) {
  FakeQmp fake({{"", {kGreeting}}, {"qmp_capabilities", {}}});
  auto c = QmpClient::handshake(fake.take_client(), 200ms);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::Timeout);
}

TEST(QmpClient, OverlongMessageIsRefused) {
  std::string huge = "{\"return\": \"" + std::string(kMaxQmpMessageBytes + 10, 'x') + "\"}";
  FakeQmp fake({{"", {kGreeting}}, {"qmp_capabilities", {huge}}});
  auto c = QmpClient::handshake(fake.take_client(), 2000ms);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::GuestProtocol);
}

TEST(QmpClient, StatusWithoutStringIsProtocolError) {
  FakeQmp fake({{"", {kGreeting}},
                {"qmp_capabilities", {R"({"return": {}})"}},
                {"query-status", {R"({"return": {"status": 3}})"}}});
  auto c = QmpClient::handshake(fake.take_client(), 2000ms);
  ASSERT_TRUE(c);
  auto st = c->query_status();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::GuestProtocol);
}

TEST(QmpClient, ConnectToMissingSocketFailsAfterDeadline) {
  auto c = QmpClient::connect(::testing::TempDir() + "/no-such-qmp.sock", 50ms);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().sys_errno, ENOENT);
}

}  // namespace
}  // namespace hull::vm
