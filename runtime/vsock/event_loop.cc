#include "runtime/vsock/event_loop.h"

#include <array>

namespace hull::vsock {
namespace {

uint64_t token(int fd, uint32_t generation) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd);
}

}  // namespace

Result<EventLoop> EventLoop::create() {
  EventLoop loop;
  loop.epfd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!loop.epfd_) return fail_errno("epoll_create1");
  return loop;
}

Status EventLoop::add(int fd, uint32_t events, Handler handler) {
  const uint32_t gen = next_generation_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token(fd, gen);
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
    return fail_errno("epoll_ctl add fd " + std::to_string(fd));
  handlers_[fd] = Entry{gen, std::move(handler)};
  return {};
}

Status EventLoop::modify(int fd, uint32_t events) {
  auto it = handlers_.find(fd);
  if (it == handlers_.end()) return fail(Errc::Internal, "epoll modify of unknown fd");
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token(fd, it->second.generation);
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) < 0)
    return fail_errno("epoll_ctl mod fd " + std::to_string(fd));
  return {};
}

void EventLoop::remove(int fd) {
  if (handlers_.erase(fd) == 0) return;
  // Cannot fail for a registered fd; if the fd was already closed the kernel dropped it.
  ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

Status EventLoop::run_once(int timeout_ms) {
  std::array<epoll_event, 64> events;
  const int n =
      ::epoll_wait(epfd_.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return {};
    return fail_errno("epoll_wait");
  }
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    const int fd = static_cast<int>(events[i].data.u64 & 0xffffffffU);
    const auto gen = static_cast<uint32_t>(events[i].data.u64 >> 32);
    auto it = handlers_.find(fd);
    if (it == handlers_.end() || it->second.generation != gen) continue;
    Handler h = it->second.handler;  // the handler may remove itself while running
    h(events[i].events);
  }
  return {};
}

}  // namespace hull::vsock
