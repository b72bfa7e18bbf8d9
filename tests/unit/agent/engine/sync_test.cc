#include "agent/engine/sync.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "agent/engine/container_init_request.h"
#include "common/unique_fd.h"

namespace hull::engine {
namespace {

struct Pair {
  UniqueFd a, b;
  Pair() {
    int sp[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    a.reset(sp[0]);
    b.reset(sp[1]);
  }
};

constexpr std::chrono::milliseconds kWait{2000};

TEST(Sync, RoundTrip) {
  Pair p;
  ASSERT_TRUE(send_sync(p.a.get(), SyncMsg::ChildPid, "1234"));
  ASSERT_TRUE(send_sync(p.a.get(), SyncMsg::Ready));
  auto m = recv_sync(p.b.get(), kWait);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, SyncMsg::ChildPid);
  EXPECT_EQ(m->payload, "1234");
  auto r = expect_sync(p.b.get(), SyncMsg::Ready, kWait);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "");
}

TEST(Sync, PassesAnFd) {
  Pair p;
  int pipefd[2];
  ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
  UniqueFd rd(pipefd[0]), wr(pipefd[1]);
  ASSERT_TRUE(send_sync_fd(p.a.get(), SyncMsg::Console, wr.get()));
  ASSERT_TRUE(send_sync(p.a.get(), SyncMsg::Ready));
  auto fd = expect_sync_fd(p.b.get(), SyncMsg::Console, kWait);
  ASSERT_TRUE(fd) << fd.error().what();
  struct stat mine {
  }, got{};
  ASSERT_EQ(::fstat(wr.get(), &mine), 0);
  ASSERT_EQ(::fstat(fd->get(), &got), 0);
  EXPECT_EQ(mine.st_ino, got.st_ino);
  EXPECT_TRUE(expect_sync(p.b.get(), SyncMsg::Ready, kWait));
  // A Console without an fd is a protocol error.
  ASSERT_TRUE(send_sync(p.a.get(), SyncMsg::Console));
  auto none = expect_sync_fd(p.b.get(), SyncMsg::Console, kWait);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::GuestProtocol);
}

TEST(Sync, ErrorMessageBecomesTheError) {
  Pair p;
  Error e{Errc::NotFound, ENOENT, "exec: \"x\": executable file not found in $PATH"};
  ASSERT_TRUE(send_sync(p.a.get(), SyncMsg::Error, encode_error(e)));
  auto r = expect_sync(p.b.get(), SyncMsg::Ready, kWait);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_EQ(r.error().sys_errno, ENOENT);
  EXPECT_EQ(r.error().msg, e.msg);
}

TEST(Sync, UnexpectedMessageIsProtocolError) {
  Pair p;
  ASSERT_TRUE(send_sync(p.a.get(), SyncMsg::Start));
  auto r = expect_sync(p.b.get(), SyncMsg::Ready, kWait);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::GuestProtocol);
  EXPECT_EQ(r.error().msg, "sync: expected Ready, got Start");
}

TEST(Sync, BadHeaderAndTimeoutAndEof) {
  Pair p;
  uint32_t hdr[2] = {99, 0};
  ASSERT_EQ(::write(p.a.get(), hdr, sizeof hdr), static_cast<ssize_t>(sizeof hdr));
  auto r = recv_sync(p.b.get(), kWait);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().msg, "sync: unknown message type 99");

  uint32_t big[2] = {static_cast<uint32_t>(SyncMsg::Config), kMaxSyncPayload + 1};
  ASSERT_EQ(::write(p.a.get(), big, sizeof big), static_cast<ssize_t>(sizeof big));
  r = recv_sync(p.b.get(), kWait);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::GuestProtocol);

  Pair q;
  r = recv_sync(q.b.get(), std::chrono::milliseconds(50));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Timeout);
  q.a.reset();
  EXPECT_TRUE(wait_sync_eof(q.b.get(), kWait));

  // EOF inside a header is not the clean EOF of an exec.
  Pair h;
  ASSERT_EQ(::write(h.a.get(), hdr, 3), 3);
  h.a.reset();
  auto cut = wait_sync_eof(h.b.get(), kWait);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().msg, "sync: peer closed mid-message");
}

TEST(Sync, MalformedErrorPayload) {
  Error e = decode_error("{not json");
  EXPECT_EQ(e.code, Errc::GuestProtocol);
  // The integer code of the old engine-only form is refused, not guessed.
  EXPECT_EQ(decode_error(R"({"code":1,"errno":0,"msg":"m"})").code, Errc::GuestProtocol);
  EXPECT_EQ(decode_error(encode_error(Error{Errc::Paused, 0, "m"})).code, Errc::Paused);
}

TEST(InitRequest, RoundTrip) {
  InitRequest r;
  r.mode = InitMode::Exec;
  r.spec_json = "{\"ociVersion\":\"1.1.0\"}";
  r.rootfs = "/r";
  r.bundle = "/b";
  r.seccomp = SeccompProgram{std::string("\x00\x01\xff", 3), 4};
  r.join = {{0x10000000, 4}, {0x20000000, 5}};
  auto d = decode_request(encode_request(r));
  ASSERT_TRUE(d) << d.error().what();
  EXPECT_EQ(d->mode, InitMode::Exec);
  EXPECT_EQ(d->spec_json, r.spec_json);
  ASSERT_TRUE(d->seccomp);
  EXPECT_EQ(d->seccomp->bpf, r.seccomp->bpf);
  EXPECT_EQ(d->seccomp->flags, 4u);
  ASSERT_EQ(d->join.size(), 2u);
  EXPECT_EQ(d->join[1].fd, 5);
  EXPECT_FALSE(decode_request("{\"mode\":\"other\"}"));
}

}  // namespace
}  // namespace hull::engine
