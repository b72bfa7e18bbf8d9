#include "agent/rpc/io_loop.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

namespace hull::agent::rpc {

Result<std::unique_ptr<IoLoop>> IoLoop::start() {
  HULL_ASSIGN(loop, wrap(EventLoop::create(), "io loop"));
  std::unique_ptr<IoLoop> l(new IoLoop(std::move(loop)));
  l->stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!l->stop_) return fail_errno("io loop: eventfd");
  IoLoop* self = l.get();
  HULL_TRY(wrap(l->loop_.add(l->stop_.get(), EPOLLIN, [self](uint32_t) { self->loop_.stop(); }),
                "io loop"));
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
  return wrap(loop_.add(fd, events | EPOLLONESHOT, std::move(handler)), "io loop");
}

Status IoLoop::rearm(Token token, uint32_t events) {
  auto st = loop_.modify(token, events | EPOLLONESHOT);
  if (!st && st.error().code == Errc::NotFound) return {};  // removed meanwhile
  return wrap(std::move(st), "io loop");
}

void IoLoop::remove(Token token) {
  (void)loop_.remove(token);  // NotFound: removed already
}

void IoLoop::run() {
  if (auto st = loop_.run(); !st) log::error("io loop: " + st.error().what());
}

}  // namespace hull::agent::rpc
