#include "common/unix_socket.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace hull {
namespace {

class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-unix-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST(UnixAddress, RefusesWhatASocketAddressCannotHold) {
  EXPECT_TRUE(unix_address("/" + std::string(kMaxUnixPathBytes - 1, 'a')));
  for (const std::string& bad :
       {std::string(), "/" + std::string(kMaxUnixPathBytes, 'a'), std::string("/a\0b", 4)}) {
    auto r = unix_address(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::Invalid);
  }
}

TEST_F(UnixSocketTest, ListenUnixReplacesStaleFileAndRefusesLongPaths) {
  std::string p = dir_ + "/s.sock";
  std::ofstream(p) << "stale";
  auto fd = listen_unix(p, 1);
  ASSERT_TRUE(fd) << fd.error().what();
  auto longp = listen_unix("/" + std::string(120, 'x'), 1);
  ASSERT_FALSE(longp);
  EXPECT_EQ(longp.error().code, Errc::Invalid);
}

TEST_F(UnixSocketTest, ConnectReachesTheListenerAndKeepsErrno) {
  std::string p = dir_ + "/s.sock";
  auto none = connect_unix(p);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().sys_errno, ENOENT);
  auto l = listen_unix(p, 1, SOCK_NONBLOCK);
  ASSERT_TRUE(l) << l.error().what();
  auto c = connect_unix(p);
  ASSERT_TRUE(c) << c.error().what();
  UniqueFd accepted(::accept4(l->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted);
  ASSERT_EQ(::write(c->get(), "x", 1), 1);
  char b = 0;
  EXPECT_EQ(::read(accepted.get(), &b, 1), 1);
  EXPECT_EQ(b, 'x');
  l->reset();  // the file stays, nobody listens
  auto refused = connect_unix(p);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().sys_errno, ECONNREFUSED);
}

}  // namespace
}  // namespace hull
