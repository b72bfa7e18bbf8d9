#include "common/io.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "tests/unit/common/test_pipe.h"

namespace hull {
namespace {

TEST(WriteAll, WaitsOnAFullNonBlockingPipe) {
  TestPipe p = TestPipe::make();
  ASSERT_TRUE(set_nonblocking(p.wr.get()));
  EXPECT_TRUE(::fcntl(p.wr.get(), F_GETFL) & O_NONBLOCK);
  std::string big(1 << 20, 'x');  // far more than a pipe holds
  std::string got;
  std::thread reader([&] {
    UniqueFd rd = std::move(p.rd);
    got = TestPipe::drain(rd.get());
  });
  ASSERT_TRUE(write_all(p.wr.get(), big));
  p.wr.reset();
  reader.join();
  EXPECT_EQ(got, big);
}

TEST(SendAll, APeerThatHasGoneIsEpipeNotSigpipe) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  b.reset();
  // SIGPIPE at its default would end this test program.
  auto st = send_all(a.get(), "hello");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().sys_errno, EPIPE);
}

TEST(WriteAll, ASendTimeoutIsTimeout) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  timeval tv{.tv_sec = 0, .tv_usec = 50'000};
  ASSERT_EQ(::setsockopt(a.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
  auto st = send_all(a.get(), std::string(16 << 20, 'x'));  // nobody reads b
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Timeout) << st.error().what();
}

TEST(FdPath, NamesTheFdAndAnEntryBelowIt) {
  EXPECT_EQ(fd_path(7), "/proc/self/fd/7");
  EXPECT_EQ(fd_path(7, "rootfs"), "/proc/self/fd/7/rootfs");
}

}  // namespace
}  // namespace hull
