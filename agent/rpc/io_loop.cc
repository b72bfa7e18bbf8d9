#include "agent/rpc/io_loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <array>
#include <cstring>

#include "common/log.h"

namespace hull::agent::rpc {

namespace {
constexpr int kMaxEvents = 32;
constexpr uint64_t kStopToken = 0;
}  // namespace

Result<std::unique_ptr<IoLoop>> IoLoop::start() {
  std::unique_ptr<IoLoop> l(new IoLoop());
  l->epfd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!l->epfd_) return fail_errno("io loop: epoll_create1");
  l->stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!l->stop_) return fail_errno("io loop: eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kStopToken;
  if (::epoll_ctl(l->epfd_.get(), EPOLL_CTL_ADD, l->stop_.get(), &ev) != 0) {
    return fail_errno("io loop: epoll_ctl");
  }
  IoLoop* self = l.get();
  l->thread_ = std::thread([self] {
    ::pthread_setname_np(::pthread_self(), "hull-io");
    self->run();
  });
  return l;
}

IoLoop::~IoLoop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
}

Result<IoLoop::Token> IoLoop::add(int fd, uint32_t events, Handler handler) {
  std::lock_guard lock(mu_);
  Token t = next_++;
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.u64 = t;
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return fail_errno("io loop: watching fd " + std::to_string(fd));
  }
  watches_[t] = Watch{fd, std::make_shared<Handler>(std::move(handler))};
  return t;
}

Status IoLoop::rearm(Token token, uint32_t events) {
  std::lock_guard lock(mu_);
  auto it = watches_.find(token);
  if (it == watches_.end()) return {};
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.u64 = token;
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, it->second.fd, &ev) != 0) {
    return fail_errno("io loop: rearming fd " + std::to_string(it->second.fd));
  }
  return {};
}

void IoLoop::remove(Token token) {
  std::lock_guard lock(mu_);
  auto it = watches_.find(token);
  if (it == watches_.end()) return;
  (void)::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, it->second.fd, nullptr);
  watches_.erase(it);
}

void IoLoop::run() {
  std::array<epoll_event, kMaxEvents> events;
  for (;;) {
    int n = ::epoll_wait(epfd_.get(), events.data(), kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::error(std::string("io loop: epoll_wait: ") + std::strerror(errno));
      return;
    }
    for (int i = 0; i < n; ++i) {
      if (events[static_cast<size_t>(i)].data.u64 == kStopToken) return;
      std::shared_ptr<Handler> h;
      {
        std::lock_guard lock(mu_);
        auto it = watches_.find(events[static_cast<size_t>(i)].data.u64);
        if (it != watches_.end()) h = it->second.handler;
      }
      if (h) (*h)(events[static_cast<size_t>(i)].events);
    }
  }
}

}  // namespace hull::agent::rpc
