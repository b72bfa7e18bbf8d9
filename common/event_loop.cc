#include "common/event_loop.h"

#include <array>
#include <string>

namespace hull {
namespace {

constexpr int kMaxEvents = 64;

}  // namespace

Result<EventLoop> EventLoop::create() {
  UniqueFd epfd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epfd) return fail_errno("epoll_create1");
  return EventLoop(std::move(epfd));
}

Result<EventLoop::Token> EventLoop::add_handler(int fd, uint32_t events, Handler handler) {
  std::lock_guard lock(state_->mu);
  const Token token = state_->next++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return fail_errno("epoll_ctl add fd " + std::to_string(fd));
  }
  state_->watches.emplace(token, Watch{fd, std::make_shared<Handler>(std::move(handler))});
  state_->newest[fd] = token;
  return token;
}

Status EventLoop::modify(Token token, uint32_t events) {
  std::lock_guard lock(state_->mu);
  auto it = state_->watches.find(token);
  if (it == state_->watches.end()) {
    return fail(Errc::NotFound, "epoll modify: no registration " + std::to_string(token));
  }
  const int fd = it->second.fd;
  // Its fd was closed and the number given to a newer registration: the
  // number is not this one's to change.
  auto newest = state_->newest.find(fd);
  if (newest == state_->newest.end() || newest->second != token) return {};
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    return fail_errno("epoll_ctl mod fd " + std::to_string(fd));
  }
  return {};
}

Status EventLoop::remove(Token token) {
  std::lock_guard lock(state_->mu);
  auto it = state_->watches.find(token);
  if (it == state_->watches.end()) {
    return fail(Errc::NotFound, "epoll remove: no registration " + std::to_string(token));
  }
  const int fd = it->second.fd;
  state_->watches.erase(it);
  auto newest = state_->newest.find(fd);
  if (newest == state_->newest.end() || newest->second != token) return {};  // as in modify()
  state_->newest.erase(newest);
  // Cannot fail for a registered open fd; a closed one the kernel has dropped.
  (void)::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
  return {};
}

bool EventLoop::watching(Token token) const {
  std::lock_guard lock(state_->mu);
  return state_->watches.contains(token);
}

Status EventLoop::run_once(int timeout_ms) {
  std::array<epoll_event, kMaxEvents> events;
  const int n = ::epoll_wait(epfd_.get(), events.data(), kMaxEvents, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return {};
    return fail_errno("epoll_wait");
  }
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    std::shared_ptr<Handler> handler;
    {
      std::lock_guard lock(state_->mu);
      auto it = state_->watches.find(events[i].data.u64);
      if (it == state_->watches.end()) continue;  // removed, maybe earlier in this round
      handler = it->second.handler;               // shared: the handler may remove itself
    }
    HULL_TRY((*handler)(events[i].events));
  }
  return {};
}

Status EventLoop::run() {
  state_->stopped = false;
  while (!state_->stopped) HULL_TRY(run_once(-1));
  return {};
}

}  // namespace hull
