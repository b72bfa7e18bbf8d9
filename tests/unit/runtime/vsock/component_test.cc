// Component tests: the whole backend (vhost-user server, device, muxer) driven
// by a fake vhost-user front end, a fake guest driver on memfd guest RAM, and
// real host unix-socket clients. Single-threaded: the test steps the backend.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/vsock/backend.h"
#include "runtime/vsock/limits.h"
#include "tests/fakes/vsock_guest.h"

namespace hull::vsock {
namespace {

using packet::Header;
using testing::FakeDriver;
using testing::FakeFrontEnd;
using testing::FakeGuestRam;

constexpr uint64_t kCid = 3;
constexpr uint16_t kRing = 64;

UniqueFd unix_connect(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return UniqueFd();
  return fd;
}

UniqueFd unix_listen(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return UniqueFd();
  if (::listen(fd.get(), 4) < 0) return UniqueFd();
  return fd;
}

std::string read_some(int fd) {
  char buf[65536];
  const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

bool eof(int fd) {
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

std::string text(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

class ComponentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-vsock-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto b = Backend::create({dir_ + "/vhost.sock", dir_ + "/vsock.sock", kCid});
    ASSERT_TRUE(b) << b.error().what();
    backend_ = std::move(*b);
    fe_ = FakeFrontEnd::connect(dir_ + "/vhost.sock");
    ASSERT_TRUE(fe_);
    pump();
    for (auto& fd : kick_) fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    for (auto& fd : call_) fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  }
  void TearDown() override {
    fe_.reset();
    backend_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  void pump(int rounds = 8) {
    for (int i = 0; i < rounds; ++i) ASSERT_TRUE(backend_->step(0));
  }
  std::pair<vhost::MsgHeader, std::vector<std::byte>> reply() {
    pump();
    EXPECT_TRUE(fe_->readable(1000));
    auto r = fe_->read_reply();
    EXPECT_TRUE(r);
    return r ? *r : std::pair<vhost::MsgHeader, std::vector<std::byte>>{};
  }
  uint64_t u64_reply() {
    auto [h, p] = reply();
    EXPECT_EQ(h.flags, 0x5u);
    uint64_t v = ~0ULL;
    if (p.size() == 8) std::memcpy(&v, p.data(), 8);
    return v;
  }

  // The QEMU 7.2 sequence from docs/vsock.md "What QEMU 7.2 sends", then rx buffers.
  void bring_up(int rx_buffers = 16, uint32_t rx_len = 4096) {
    ASSERT_TRUE(fe_->send(vhost::kGetFeatures, {}));
    ASSERT_EQ(u64_reply(), vhost::kOfferedFeatures);
    ASSERT_TRUE(fe_->send(vhost::kGetProtocolFeatures, {}));
    ASSERT_EQ(u64_reply(), vhost::kOfferedProtocolFeatures);
    ASSERT_TRUE(fe_->send_u64(vhost::kSetProtocolFeatures, 0x209));
    ASSERT_TRUE(fe_->send(vhost::kGetQueueNum, {}));
    ASSERT_GE(u64_reply(), 1u);
    ASSERT_TRUE(fe_->send(vhost::kSetOwner, {}));
    std::byte cfg[20] = {};
    const uint32_t size = 8;
    std::memcpy(cfg + 4, &size, 4);
    ASSERT_TRUE(fe_->send(vhost::kGetConfig, cfg));
    auto [ch, cp] = reply();
    ASSERT_EQ(cp.size(), 20u);
    uint64_t cid;
    std::memcpy(&cid, cp.data() + 12, 8);
    ASSERT_EQ(cid, kCid);
    ASSERT_TRUE(fe_->send_u64(vhost::kSetFeatures, 0x170000000ULL));
    ASSERT_TRUE(fe_->send_mem_table(ram_, vhost::kFlagNeedReply));
    ASSERT_EQ(u64_reply(), 0u);
    for (uint32_t i = 0; i < 2; ++i) {
      FakeDriver& d = i == 0 ? rx_ : tx_;
      ASSERT_TRUE(fe_->send_state(vhost::kSetVringNum, i, kRing));
      ASSERT_TRUE(fe_->send_state(vhost::kSetVringBase, i, 0));
      ASSERT_TRUE(fe_->send_addr(i, ram_.uaddr(d.desc_gpa()), ram_.uaddr(d.used_gpa()),
                                 ram_.uaddr(d.avail_gpa())));
      ASSERT_TRUE(fe_->send_file(vhost::kSetVringKick, i, kick_[i].get()));
    }
    for (uint32_t i = 0; i < 2; ++i) ASSERT_TRUE(fe_->send_state(vhost::kSetVringEnable, i, 1));
    for (uint32_t i = 0; i < 2; ++i)
      ASSERT_TRUE(fe_->send_file(vhost::kSetVringCall, i, call_[i].get()));
    pump();
    ASSERT_TRUE(backend_->device().ring_running(0));
    ASSERT_TRUE(backend_->device().ring_running(1));
    for (int i = 0; i < rx_buffers; ++i) rx_.post_rx(rx_len);
    kick(0);
  }

  void kick(uint32_t ring) {
    const uint64_t one = 1;
    ASSERT_EQ(::write(kick_[ring].get(), &one, 8), 8);
    pump();
  }
  Header guest_header(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t len = 0) {
    Header h;
    h.src_cid = kCid;
    h.dst_cid = 2;
    h.src_port = src_port;
    h.dst_port = dst_port;
    h.len = len;
    h.op = op;
    h.buf_alloc = guest_buf_alloc_;
    h.fwd_cnt = guest_fwd_cnt_;
    return h;
  }
  void guest_send(uint16_t op, uint32_t src_port, uint32_t dst_port, std::string_view data = {},
                  uint32_t flags = 0) {
    Header h = guest_header(op, src_port, dst_port, static_cast<uint32_t>(data.size()));
    h.flags = flags;
    tx_.post_tx(h, testing::as_bytes(data));
    kick(1);
  }
  std::optional<std::pair<Header, std::vector<std::byte>>> guest_recv() {
    pump();
    auto p = rx_.next_rx();
    if (p) guest_fwd_cnt_ += static_cast<uint32_t>(p->second.size());
    return p;
  }
  bool call_signalled(uint32_t ring) {
    uint64_t v = 0;
    return ::read(call_[ring].get(), &v, 8) == 8 && v > 0;
  }

  // Host CONNECT to guest port 1024 that the fake guest accepts. Returns the stream.
  UniqueFd host_connect_established(uint32_t guest_port = 1024) {
    UniqueFd c = unix_connect(dir_ + "/vsock.sock");
    EXPECT_TRUE(c);
    const std::string line = "CONNECT " + std::to_string(guest_port) + "\n";
    EXPECT_EQ(::send(c.get(), line.data(), line.size(), 0), static_cast<ssize_t>(line.size()));
    auto req = guest_recv();
    EXPECT_TRUE(req);
    if (!req) return UniqueFd();
    EXPECT_EQ(req->first.op, packet::kOpRequest);
    EXPECT_EQ(req->first.dst_port, guest_port);
    EXPECT_EQ(req->first.dst_cid, kCid);
    EXPECT_EQ(req->first.src_cid, 2u);
    host_port_ = req->first.src_port;
    guest_send(packet::kOpResponse, guest_port, host_port_);
    EXPECT_EQ(read_some(c.get()), "OK " + std::to_string(host_port_) + "\n");
    return c;
  }

  std::string dir_;
  std::unique_ptr<Backend> backend_;
  std::optional<FakeFrontEnd> fe_;
  FakeGuestRam ram_;
  FakeDriver rx_{ram_, kRing};
  FakeDriver tx_{ram_, kRing};
  UniqueFd kick_[2];
  UniqueFd call_[2];
  uint32_t guest_buf_alloc_ = 262144;
  uint32_t guest_fwd_cnt_ = 0;
  uint32_t host_port_ = 0;
  std::string received_;
};

TEST_F(ComponentTest, HandshakeAsQemuDrivesIt) {
  bring_up();
  EXPECT_FALSE(backend_->finished());
}

TEST_F(ComponentTest, HostConnectDataBothWays) {
  bring_up();
  UniqueFd c = host_connect_established();
  EXPECT_GE(host_port_, limits::kHostPortFirst);
  EXPECT_LT(host_port_, limits::kHostPortEnd);
  EXPECT_TRUE(call_signalled(0));

  ASSERT_EQ(::send(c.get(), "ping", 4, 0), 4);
  auto rw = guest_recv();
  ASSERT_TRUE(rw);
  EXPECT_EQ(rw->first.op, packet::kOpRw);
  EXPECT_EQ(rw->first.src_port, host_port_);
  EXPECT_EQ(rw->first.dst_port, 1024u);
  EXPECT_EQ(text(rw->second), "ping");

  guest_send(packet::kOpRw, 1024, host_port_, "pong");
  EXPECT_EQ(read_some(c.get()), "pong");
  EXPECT_EQ(tx_.used_idx(), 2);  // RESPONSE and RW returned to the guest
}

TEST_F(ComponentTest, ManyConcurrentStreams) {
  bring_up(64);
  std::vector<UniqueFd> streams;
  std::vector<uint32_t> ports;
  for (uint32_t i = 0; i < 10; ++i) {
    streams.push_back(host_connect_established(2000 + i));
    ports.push_back(host_port_);
  }
  for (uint32_t i = 0; i < 10; ++i)
    guest_send(packet::kOpRw, 2000 + i, ports[i], "n" + std::to_string(i));
  for (uint32_t i = 0; i < 10; ++i) EXPECT_EQ(read_some(streams[i].get()), "n" + std::to_string(i));
  EXPECT_EQ(backend_->muxer().connection_count(), 10u);
}

TEST_F(ComponentTest, GuestConnectsToUdsPort) {
  bring_up();
  UniqueFd listener = unix_listen(dir_ + "/vsock.sock_5000");
  ASSERT_TRUE(listener);
  guest_send(packet::kOpRequest, 7777, 5000);
  auto resp = guest_recv();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->first.op, packet::kOpResponse);
  EXPECT_EQ(resp->first.src_port, 5000u);
  EXPECT_EQ(resp->first.dst_port, 7777u);
  UniqueFd s(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(s);
  guest_send(packet::kOpRw, 7777, 5000, "from guest");
  EXPECT_EQ(read_some(s.get()), "from guest");
  ASSERT_EQ(::send(s.get(), "from host", 9, 0), 9);
  auto rw = guest_recv();
  ASSERT_TRUE(rw);
  EXPECT_EQ(text(rw->second), "from host");

  // Guest closes fully: backend answers RST and closes the host stream.
  guest_send(packet::kOpShutdown, 7777, 5000, {}, packet::kShutdownRcv | packet::kShutdownSend);
  auto rst = guest_recv();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->first.op, packet::kOpRst);
  EXPECT_TRUE(eof(s.get()));
  EXPECT_EQ(backend_->muxer().connection_count(), 0u);
}

TEST_F(ComponentTest, GuestConnectWithoutListenerGetsRst) {
  bring_up();
  guest_send(packet::kOpRequest, 7777, 6000);
  auto rst = guest_recv();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->first.op, packet::kOpRst);
  EXPECT_EQ(rst->first.src_port, 6000u);
  EXPECT_EQ(rst->first.dst_port, 7777u);
}

TEST_F(ComponentTest, RstToUnknownPortAndNoRstForRst) {
  bring_up();
  guest_send(packet::kOpRw, 1234, 999, "stray");
  auto rst = guest_recv();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->first.op, packet::kOpRst);
  EXPECT_EQ(rst->first.dst_port, 1234u);
  guest_send(packet::kOpRst, 1234, 999);
  EXPECT_FALSE(guest_recv());
}

TEST_F(ComponentTest, BadTypeGetsRstBadCidIsDropped) {
  bring_up();
  Header h = guest_header(packet::kOpRequest, 1, 2);
  h.type = packet::kTypeSeqpacket;
  tx_.post_tx(h);
  kick(1);
  auto rst = guest_recv();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->first.op, packet::kOpRst);
  h = guest_header(packet::kOpRequest, 1, 2);
  h.dst_cid = 7;
  tx_.post_tx(h);
  kick(1);
  EXPECT_FALSE(guest_recv());
  EXPECT_EQ(tx_.used_idx(), 2);
}

TEST_F(ComponentTest, GuestRefusesHostConnect) {
  bring_up();
  UniqueFd c = unix_connect(dir_ + "/vsock.sock");
  ASSERT_EQ(::send(c.get(), "CONNECT 1024\n", 13, 0), 13);
  auto req = guest_recv();
  ASSERT_TRUE(req);
  guest_send(packet::kOpRst, 1024, req->first.src_port);
  EXPECT_TRUE(eof(c.get()));
}

TEST_F(ComponentTest, GuestThatNeverAnswersGetsRstAfterTimeout) {
  bring_up();
  UniqueFd c = unix_connect(dir_ + "/vsock.sock");
  ASSERT_EQ(::send(c.get(), "CONNECT 1024\n", 13, 0), 13);
  auto req = guest_recv();
  ASSERT_TRUE(req);
  backend_->muxer().tick(Muxer::Clock::now() +
                         std::chrono::milliseconds(limits::kConnectRequestTimeoutMs + 1));
  auto rst = guest_recv();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->first.op, packet::kOpRst);
  EXPECT_EQ(rst->first.src_port, req->first.src_port);
  EXPECT_TRUE(eof(c.get()));
  EXPECT_EQ(backend_->muxer().connection_count(), 0u);
}

TEST_F(ComponentTest, SilentHostStreamWithoutConnectLineTimesOut) {
  bring_up();
  UniqueFd c = unix_connect(dir_ + "/vsock.sock");
  ASSERT_EQ(::send(c.get(), "CONN", 4, 0), 4);
  pump();
  EXPECT_FALSE(eof(c.get()));
  backend_->muxer().tick(Muxer::Clock::now() +
                         std::chrono::milliseconds(limits::kConnectRequestTimeoutMs + 1));
  EXPECT_TRUE(eof(c.get()));
}

TEST_F(ComponentTest, MalformedConnectLineClosesStream) {
  bring_up();
  UniqueFd c = unix_connect(dir_ + "/vsock.sock");
  ASSERT_EQ(::send(c.get(), "HELLO 1024\n", 11, 0), 11);
  pump();
  EXPECT_TRUE(eof(c.get()));
  EXPECT_FALSE(guest_recv());
}

TEST_F(ComponentTest, BackPressureWithoutRxBuffers) {
  bring_up(/*rx_buffers=*/2);
  UniqueFd c = host_connect_established();  // the REQUEST used one buffer
  // Use up the last buffer.
  ASSERT_EQ(::send(c.get(), "x", 1, 0), 1);
  ASSERT_TRUE(guest_recv());
  // No rx buffers: the host stream is not read, so its socket buffer fills up
  // instead of hull-vsock's memory.
  std::string chunk(65536, 'y');
  size_t sent = 0;
  for (int i = 0; i < 200; ++i) {
    const ssize_t n = ::send(c.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n < 0) break;
    sent += static_cast<size_t>(n);
    pump(1);
  }
  EXPECT_LT(sent, 200u * 65536u);  // hit EAGAIN: nobody drained it
  EXPECT_FALSE(guest_recv());
  EXPECT_TRUE(backend_->muxer().has_rx_work());
  // Buffers arrive: data flows again.
  for (int i = 0; i < 4; ++i) rx_.post_rx(4096);
  kick(0);
  auto rw = guest_recv();
  ASSERT_TRUE(rw);
  EXPECT_EQ(rw->first.op, packet::kOpRw);
  EXPECT_EQ(rw->second.size(), 4096u - packet::kHeaderSize);
}

TEST_F(ComponentTest, GuestCreditExhaustedSendsCreditRequest) {
  guest_buf_alloc_ = 100;
  bring_up();
  UniqueFd c = host_connect_established();
  std::string data(300, 'z');
  ASSERT_EQ(::send(c.get(), data.data(), data.size(), 0), 300);
  auto rw = guest_recv();
  ASSERT_TRUE(rw);
  EXPECT_EQ(rw->first.op, packet::kOpRw);
  EXPECT_EQ(rw->second.size(), 100u);
  auto req = guest_recv();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->first.op, packet::kOpCreditRequest);
  EXPECT_FALSE(guest_recv());
  guest_send(packet::kOpCreditUpdate, 1024, host_port_);  // fwd_cnt is now 100
  auto more = guest_recv();
  ASSERT_TRUE(more);
  EXPECT_EQ(more->second.size(), 100u);
}

TEST_F(ComponentTest, BulkHostToGuestFollowsGuestCredit) {
  guest_buf_alloc_ = 16384;
  bring_up(/*rx_buffers=*/48);
  UniqueFd c = host_connect_established();
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 23);
  size_t sent = 0;
  std::string got;
  for (int round = 0; round < 20000 && got.size() < data.size(); ++round) {
    if (sent < data.size()) {
      const ssize_t n = ::send(c.get(), data.data() + sent, data.size() - sent, MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
    }
    uint32_t in_flight = 0;
    while (auto p = guest_recv()) {
      rx_.post_rx(4096);  // the guest recycles its buffer
      if (p->first.op == packet::kOpRw) {
        got += text(p->second);
        in_flight += static_cast<uint32_t>(p->second.size());
        ASSERT_LE(in_flight, guest_buf_alloc_) << "sent beyond the guest's credit";
      }
    }
    kick(0);
    guest_send(packet::kOpCreditUpdate, 1024, host_port_);  // guest consumed it all
  }
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

TEST_F(ComponentTest, SlowHostReaderGetsBufferedBytesInOrder) {
  bring_up(/*rx_buffers=*/64);
  UniqueFd c = host_connect_established();
  int small = 4096;
  ASSERT_EQ(::setsockopt(c.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  // The guest keeps sending within our credit, taking CREDIT_UPDATEs into account.
  std::string expect;
  uint32_t guest_tx = 0;
  uint32_t our_fwd = 0;
  uint32_t our_buf = limits::kConnBufAlloc;
  int stalls = 0;  // rounds where the guest had to wait for our credit
  for (int i = 0; i < 400 && expect.size() < 300000; ++i) {
    while (auto p = guest_recv()) {
      our_fwd = p->first.fwd_cnt;
      our_buf = p->first.buf_alloc;
    }
    const uint32_t credit = our_buf - (guest_tx - our_fwd);
    if (credit == 0) {
      ++stalls;
      // Host drains a little, which flushes buffered bytes on EPOLLOUT.
      received_ += read_some(c.get());
      pump();
      continue;
    }
    const uint32_t n = std::min<uint32_t>(credit, 8000);
    std::string chunk(n, '\0');
    for (uint32_t k = 0; k < n; ++k) chunk[k] = static_cast<char>('A' + (expect.size() + k) % 26);
    guest_send(packet::kOpRw, 1024, host_port_, chunk);
    guest_tx += n;
    expect += chunk;
    ASSERT_EQ(backend_->muxer().connection_count(), 1u) << "reset although within credit";
  }
  for (int i = 0; i < 2000 && received_.size() < expect.size(); ++i) {
    received_ += read_some(c.get());
    pump(1);
  }
  ASSERT_EQ(received_.size(), expect.size());
  EXPECT_TRUE(received_ == expect);
  EXPECT_GT(stalls, 0) << "the host socket never filled up; buffering was not exercised";
}

TEST_F(ComponentTest, CreditRequestFromGuestIsAnswered) {
  bring_up();
  UniqueFd c = host_connect_established();
  guest_send(packet::kOpCreditRequest, 1024, host_port_);
  auto upd = guest_recv();
  ASSERT_TRUE(upd);
  EXPECT_EQ(upd->first.op, packet::kOpCreditUpdate);
  EXPECT_EQ(upd->first.buf_alloc, limits::kConnBufAlloc);
}

TEST_F(ComponentTest, GuestCreditViolationResets) {
  bring_up();
  UniqueFd c = host_connect_established();
  // The host never reads; the guest ignores our 64 KiB credit.
  std::string big(60000, 'q');
  for (int i = 0; i < 20 && backend_->muxer().connection_count() == 1; ++i)
    guest_send(packet::kOpRw, 1024, host_port_, big);
  EXPECT_EQ(backend_->muxer().connection_count(), 0u);
  std::optional<std::pair<Header, std::vector<std::byte>>> p;
  bool saw_rst = false;
  while ((p = guest_recv())) saw_rst = saw_rst || p->first.op == packet::kOpRst;
  EXPECT_TRUE(saw_rst);
}

TEST_F(ComponentTest, HostCloseSendsShutdownThenGuestCloses) {
  bring_up();
  UniqueFd c = host_connect_established();
  c.reset();
  auto sd = guest_recv();
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->first.op, packet::kOpShutdown);
  EXPECT_TRUE(sd->first.flags & packet::kShutdownSend);
  guest_send(packet::kOpShutdown, 1024, host_port_, {},
             packet::kShutdownSend | packet::kShutdownRcv);
  auto rst = guest_recv();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->first.op, packet::kOpRst);
  EXPECT_EQ(backend_->muxer().connection_count(), 0u);
}

TEST_F(ComponentTest, MalformedChainsAreDroppedAndTheDeviceGoesOn) {
  bring_up();
  // A loop, an address outside guest memory, a too-short header.
  tx_.set_desc(60, ram_.alloc(44), 44, virtq::kDescNext, 61);
  tx_.set_desc(61, ram_.alloc(44), 44, virtq::kDescNext, 60);
  tx_.make_avail(60);
  tx_.set_desc(62, 0x7fff0000000, 44, 0, 0);
  tx_.make_avail(62);
  tx_.set_desc(63, ram_.alloc(10), 10, 0, 0);
  tx_.make_avail(63);
  kick(1);
  EXPECT_EQ(tx_.used_idx(), 3);
  EXPECT_EQ(tx_.used_elem(0).first, 60u);
  EXPECT_EQ(tx_.used_elem(0).second, 0u);
  EXPECT_GE(backend_->device().guest_faults(), 3u);
  // Still working.
  UniqueFd c = host_connect_established();
  EXPECT_TRUE(c);
}

TEST_F(ComponentTest, CorruptAvailIndexStopsOnlyThatRing) {
  bring_up();
  tx_.set_avail_idx(1000);
  kick(1);
  EXPECT_TRUE(backend_->device().ring_broken(1));
  EXPECT_FALSE(backend_->finished());
  // The front end can set the ring up again.
  tx_.set_avail_idx(0);
  ASSERT_TRUE(fe_->send_state(vhost::kSetVringBase, 1, 0));
  ASSERT_TRUE(fe_->send_addr(1, ram_.uaddr(tx_.desc_gpa()), ram_.uaddr(tx_.used_gpa()),
                             ram_.uaddr(tx_.avail_gpa())));
  pump();
  EXPECT_TRUE(backend_->device().ring_running(1));
}

TEST_F(ComponentTest, GetVringBaseStopsRingAndDropsConnections) {
  bring_up();
  UniqueFd c = host_connect_established();
  ASSERT_TRUE(fe_->send_state(vhost::kSetVringEnable, 1, 0));
  ASSERT_TRUE(fe_->send_state(vhost::kGetVringBase, 1, 0));
  auto [h, p] = reply();
  ASSERT_EQ(p.size(), 8u);
  uint32_t state[2];
  std::memcpy(state, p.data(), 8);
  EXPECT_EQ(state[0], 1u);
  EXPECT_EQ(state[1], 1u);  // the RESPONSE was consumed
  EXPECT_FALSE(backend_->device().ring_running(1));
  EXPECT_TRUE(eof(c.get()));
}

TEST_F(ComponentTest, FrontEndEofFinishesCleanly) {
  bring_up();
  fe_.reset();
  pump();
  EXPECT_TRUE(backend_->finished());
  EXPECT_FALSE(backend_->failure());
}

TEST_F(ComponentTest, BadFramingEndsTheSessionWithAnError) {
  std::byte junk[12] = {};
  junk[4] = std::byte{2};  // version 2
  ASSERT_EQ(::send(fe_->fd(), junk, sizeof junk, 0), 12);
  pump();
  EXPECT_TRUE(backend_->finished());
  ASSERT_TRUE(backend_->failure());
  EXPECT_EQ(backend_->failure()->code, Errc::GuestProtocol);
}

TEST_F(ComponentTest, BadPayloadIsRefusedWithFailureAck) {
  ASSERT_TRUE(fe_->send_u64(vhost::kSetProtocolFeatures, 0x209));
  std::byte bad[4] = {};
  ASSERT_TRUE(fe_->send(vhost::kSetVringNum, bad, {}, vhost::kFlagNeedReply));
  EXPECT_EQ(u64_reply(), 1u);
  ASSERT_TRUE(fe_->send_state(vhost::kSetVringNum, 0, 1000));  // not a power of two
  pump();
  EXPECT_FALSE(backend_->finished());
}

}  // namespace
}  // namespace hull::vsock
