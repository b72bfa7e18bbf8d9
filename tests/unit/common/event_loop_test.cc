#include "common/event_loop.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/unit/common/test_pipe.h"

namespace hull {
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
  auto token = loop->add(r.get(), EPOLLIN,
                         [](uint32_t) -> Status { return fail(Errc::GuestProtocol, "bad peer"); });
  ASSERT_TRUE(token);
  ASSERT_EQ(::write(w.get(), "x", 1), 1);
  auto st = loop->run();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().msg, "bad peer");
  ASSERT_TRUE(loop->remove(*token));
  EXPECT_TRUE(loop->run_once(0));  // nothing registered, nothing runs
  EXPECT_FALSE(loop->remove(*token));
}

TEST(EventLoop, AReusedFdNeverReachesTheOldHandler) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  TestPipe first = TestPipe::make(O_CLOEXEC | O_NONBLOCK);
  const int number = first.rd.get();
  int old_calls = 0, new_calls = 0;
  auto old_token = loop->add(number, EPOLLIN, [&](uint32_t) { ++old_calls; });
  ASSERT_TRUE(old_token);
  // The owner closes its fd without removing it first; the number is reused.
  first.rd.reset();
  first.wr.reset();
  TestPipe second = TestPipe::make(O_CLOEXEC | O_NONBLOCK);
  ASSERT_EQ(second.rd.get(), number);  // the lowest free number
  auto new_token = loop->add(number, EPOLLIN, [&](uint32_t) {
    ++new_calls;
    char c;
    while (::read(second.rd.get(), &c, 1) == 1) {
    }
  });
  ASSERT_TRUE(new_token);
  EXPECT_NE(*new_token, *old_token);
  // The old owner's late remove must not take the new registration along.
  EXPECT_TRUE(loop->remove(*old_token));
  ASSERT_EQ(::write(second.wr.get(), "x", 1), 1);
  ASSERT_TRUE(loop->run_once(1000));
  EXPECT_EQ(old_calls, 0);
  EXPECT_EQ(new_calls, 1);
  EXPECT_TRUE(loop->watching(*new_token));
  EXPECT_FALSE(loop->watching(*old_token));
}

TEST(EventLoop, AnEventOfARemovedRegistrationIsDroppedInTheSameRound) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  TestPipe a = TestPipe::make(O_CLOEXEC | O_NONBLOCK), b = TestPipe::make(O_CLOEXEC | O_NONBLOCK);
  ASSERT_EQ(::write(a.wr.get(), "x", 1), 1);
  ASSERT_EQ(::write(b.wr.get(), "x", 1), 1);
  // Whichever handler runs first removes the other: its event, already
  // fetched in the same epoll_wait, must not run.
  EventLoop::Token ta = 0, tb = 0;
  int calls = 0;
  auto ra = loop->add(a.rd.get(), EPOLLIN, [&](uint32_t) -> Status {
    ++calls;
    return loop->remove(tb);
  });
  auto rb = loop->add(b.rd.get(), EPOLLIN, [&](uint32_t) -> Status {
    ++calls;
    return loop->remove(ta);
  });
  ASSERT_TRUE(ra && rb);
  ta = *ra;
  tb = *rb;
  ASSERT_TRUE(loop->run_once(1000));
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, ModifyRearmsAOneShotRegistration) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  TestPipe p = TestPipe::make(O_CLOEXEC | O_NONBLOCK);
  ASSERT_EQ(::write(p.wr.get(), "xy", 2), 2);
  int calls = 0;
  auto t = loop->add(p.rd.get(), EPOLLIN | EPOLLONESHOT, [&](uint32_t) { ++calls; });
  ASSERT_TRUE(t);
  ASSERT_TRUE(loop->run_once(1000));
  ASSERT_TRUE(loop->run_once(0));  // still readable, but one-shot
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(loop->modify(*t, EPOLLIN | EPOLLONESHOT));
  ASSERT_TRUE(loop->run_once(1000));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(loop->modify(*t + 100, EPOLLIN).error().code, Errc::NotFound);
}

}  // namespace
}  // namespace hull
