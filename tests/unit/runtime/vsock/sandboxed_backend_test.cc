// The seccomp allow-list covers everything the backend does after setup: a
// forked child creates the backend, enters the sandbox (as main() does) and
// serves a fake front end and fake guest from the parent through the whole
// QEMU sequence, a host CONNECT, data both ways and a guest-initiated
// connection. A syscall missing from the list would kill it with SIGSYS.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "runtime/vsock/backend.h"
#include "runtime/vsock/sandboxing.h"
#include "tests/fakes/vsock_guest.h"

namespace hull::vsock {
namespace {

using namespace std::chrono_literals;
using packet::Header;
using testing::FakeDriver;
using testing::FakeFrontEnd;
using testing::FakeGuestRam;

constexpr uint64_t kBackendCid = 5;

UniqueFd unix_socket(const std::string& path, bool listen) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  const auto* sa = reinterpret_cast<sockaddr*>(&a);
  if (listen ? (::bind(fd.get(), sa, sizeof a) < 0 || ::listen(fd.get(), 4) < 0)
             : ::connect(fd.get(), sa, sizeof a) < 0)
    return UniqueFd();
  return fd;
}

bool wait_until(const std::function<bool()>& pred) {
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

std::string read_exact(int fd, size_t n) {
  std::string s(n, '\0');
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return {};
  if (::recv(fd, s.data(), n, MSG_WAITALL) != static_cast<ssize_t>(n)) return {};
  return s;
}

class SandboxedBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-vsock-sbx-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    std::system(("rm -rf " + dir_).c_str());
  }
  void send_and_kick(FakeDriver& d, const Header& h, std::string_view data, int kick) {
    Header with_len = h;
    with_len.len = static_cast<uint32_t>(data.size());
    d.post_tx(with_len, testing::as_bytes(data));
    const uint64_t one = 1;
    ASSERT_EQ(::write(kick, &one, 8), 8);
  }

  std::string dir_;
  pid_t child_ = -1;
};

TEST_F(SandboxedBackend, FullSessionUnderSeccomp) {
  FakeGuestRam ram;
  FakeDriver rx(ram, 32);
  FakeDriver tx(ram, 32);
  UniqueFd kick[2] = {UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
                      UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))};
  UniqueFd call[2] = {UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
                      UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))};
  const std::string vhost = dir_ + "/vhost.sock";
  const std::string uds = dir_ + "/vsock.sock";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);

  child_ = ::fork();
  if (child_ == 0) {
    ::close(ready[0]);
    auto b = Backend::create({vhost, uds, kBackendCid});
    if (!b) ::_exit(10);
    if (!enter_sandbox()) ::_exit(11);
    if (::write(ready[1], "r", 1) != 1) ::_exit(12);
    while (!(*b)->finished())
      if (!(*b)->step(100)) ::_exit(13);
    ::_exit((*b)->failure() ? 14 : 0);
  }
  ::close(ready[1]);
  char r;
  ASSERT_EQ(::read(ready[0], &r, 1), 1);
  ::close(ready[0]);

  auto fe = FakeFrontEnd::connect(vhost);
  ASSERT_TRUE(fe);
  ASSERT_TRUE(fe->send(vhost::kGetFeatures, {}));
  ASSERT_TRUE(fe->read_reply());
  ASSERT_TRUE(fe->send_u64(vhost::kSetProtocolFeatures, 0x209));
  ASSERT_TRUE(fe->send_u64(vhost::kSetFeatures, 0x170000000ULL));
  ASSERT_TRUE(fe->send_mem_table(ram, vhost::kFlagNeedReply));
  ASSERT_TRUE(fe->read_reply());
  for (uint32_t i = 0; i < 2; ++i) {
    FakeDriver& d = i == 0 ? rx : tx;
    ASSERT_TRUE(fe->send_state(vhost::kSetVringNum, i, 32));
    ASSERT_TRUE(fe->send_state(vhost::kSetVringBase, i, 0));
    ASSERT_TRUE(fe->send_addr(i, ram.uaddr(d.desc_gpa()), ram.uaddr(d.used_gpa()),
                              ram.uaddr(d.avail_gpa())));
    ASSERT_TRUE(fe->send_file(vhost::kSetVringKick, i, kick[i].get()));
    ASSERT_TRUE(fe->send_file(vhost::kSetVringCall, i, call[i].get()));
    ASSERT_TRUE(fe->send_state(vhost::kSetVringEnable, i, 1));
  }
  // A reply proves the backend has handled every message before it, both
  // enables included: a RESPONSE posted on a tx ring not yet enabled would be
  // drained and discarded (a slow build, such as the ASan one, lost it).
  ASSERT_TRUE(fe->send(vhost::kGetFeatures, {}));
  ASSERT_TRUE(fe->read_reply());
  for (int i = 0; i < 16; ++i) rx.post_rx(4096);
  const uint64_t one = 1;
  ASSERT_EQ(::write(kick[0].get(), &one, 8), 8);

  // Host-initiated connection.
  UniqueFd host = unix_socket(uds, false);
  ASSERT_TRUE(host);
  ASSERT_EQ(::send(host.get(), "CONNECT 1024\n", 13, 0), 13);
  std::optional<std::pair<Header, std::vector<std::byte>>> pkt;
  ASSERT_TRUE(wait_until([&] { return (pkt = rx.next_rx()).has_value(); }));
  ASSERT_EQ(pkt->first.op, packet::kOpRequest);
  Header h;
  h.src_cid = kBackendCid;
  h.dst_cid = 2;
  h.src_port = 1024;
  h.dst_port = pkt->first.src_port;
  h.op = packet::kOpResponse;
  h.buf_alloc = 65536;
  send_and_kick(tx, h, {}, kick[1].get());
  const std::string ok = "OK " + std::to_string(h.dst_port) + "\n";
  ASSERT_EQ(read_exact(host.get(), ok.size()), ok);
  ASSERT_EQ(::send(host.get(), "hi", 2, 0), 2);
  ASSERT_TRUE(wait_until([&] { return (pkt = rx.next_rx()).has_value(); }));
  EXPECT_EQ(pkt->second.size(), 2u);
  h.op = packet::kOpRw;
  send_and_kick(tx, h, "yo", kick[1].get());
  EXPECT_EQ(read_exact(host.get(), 2), "yo");

  // Guest-initiated connection: socket() + connect() inside the sandbox.
  UniqueFd listener = unix_socket(uds + "_6000", true);
  ASSERT_TRUE(listener);
  Header req = h;
  req.src_port = 9999;
  req.dst_port = 6000;
  req.op = packet::kOpRequest;
  send_and_kick(tx, req, {}, kick[1].get());
  ASSERT_TRUE(wait_until([&] { return (pkt = rx.next_rx()).has_value(); }));
  EXPECT_EQ(pkt->first.op, packet::kOpResponse);

  // Guest reboot: a new memory table maps guest RAM again.
  ASSERT_TRUE(fe->send_state(vhost::kGetVringBase, 0, 0));
  ASSERT_TRUE(fe->read_reply());
  ASSERT_TRUE(fe->send_mem_table(ram, vhost::kFlagNeedReply));
  auto ack = fe->read_reply();
  ASSERT_TRUE(ack);

  fe.reset();  // QEMU goes away
  int status = 0;
  ASSERT_TRUE(wait_until([&] { return ::waitpid(child_, &status, WNOHANG) == child_; }));
  child_ = -1;
  ASSERT_FALSE(WIFSIGNALED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace hull::vsock
