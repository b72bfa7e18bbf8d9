#include "agent/init/event_loop.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace hull::agent::init {
namespace {

TEST(EventLoop, RunsHandlersOfReadyFdsAndStops) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd r(p[0]), w(p[1]);
  int calls = 0;
  ASSERT_TRUE(loop->add(r.get(), EPOLLIN, [&](uint32_t events) -> Status {
    EXPECT_TRUE(events & EPOLLIN);
    char c;
    EXPECT_EQ(::read(r.get(), &c, 1), 1);
    if (++calls == 2) loop->stop();
    return {};
  }));
  ASSERT_EQ(::write(w.get(), "ab", 2), 2);
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(calls, 2);
}

TEST(EventLoop, HandlerErrorEndsRunAndRemovedFdsAreQuiet) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd r(p[0]), w(p[1]);
  ASSERT_TRUE(loop->add(r.get(), EPOLLIN,
                        [](uint32_t) -> Status { return fail(Errc::GuestProtocol, "bad peer"); }));
  ASSERT_EQ(::write(w.get(), "x", 1), 1);
  auto st = loop->run();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().msg, "bad peer");
  ASSERT_TRUE(loop->remove(r.get()));
  EXPECT_TRUE(loop->run_once(0));  // nothing registered, nothing runs
  EXPECT_FALSE(loop->remove(r.get()));
}

}  // namespace
}  // namespace hull::agent::init
