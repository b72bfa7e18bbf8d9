#include "agent/init/event_loop.h"

#include <sys/epoll.h>

#include <string>

namespace hull::agent::init {
namespace {
constexpr int kMaxEvents = 32;
}

Result<EventLoop> EventLoop::create() {
  UniqueFd epfd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epfd) return fail_errno("epoll_create1");
  return EventLoop(std::move(epfd));
}

Status EventLoop::add(int fd, uint32_t events, Handler handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return fail_errno("epoll_ctl add fd " + std::to_string(fd));
  }
  handlers_[fd] = std::move(handler);
  return {};
}

Status EventLoop::remove(int fd) {
  handlers_.erase(fd);
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0) {
    return fail_errno("epoll_ctl del fd " + std::to_string(fd));
  }
  return {};
}

Status EventLoop::run_once(int timeout_ms) {
  epoll_event events[kMaxEvents];
  int n = ::epoll_wait(epfd_.get(), events, kMaxEvents, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return {};
    return fail_errno("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    auto it = handlers_.find(events[i].data.fd);
    if (it == handlers_.end()) continue;  // removed by an earlier handler of this round
    Handler handler = it->second;         // a copy: the handler may remove itself
    HULL_TRY(handler(events[i].events));
  }
  return {};
}

Status EventLoop::run() {
  stopped_ = false;
  while (!stopped_) HULL_TRY(run_once(-1));
  return {};
}

}  // namespace hull::agent::init
