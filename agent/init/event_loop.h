// The agent's main loop: one epoll instance, one handler per fd, on one thread. The reaper's
// signalfd is the first fd; the RPC service adds its own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::agent::init {

class EventLoop {
 public:
  // Gets the epoll event bits; an error stops the loop and run() returns it.
  using Handler = std::function<Status(uint32_t events)>;

  static Result<EventLoop> create();

  // Watches `fd` (not owned; it must stay open until remove()) for `events`.
  Status add(int fd, uint32_t events, Handler handler);
  Status remove(int fd);

  // Waits up to timeout_ms (-1: forever) and runs the handlers of the ready fds once.
  Status run_once(int timeout_ms);
  // Runs until stop() or a handler's error.
  Status run();
  void stop() { stopped_ = true; }

 private:
  explicit EventLoop(UniqueFd epfd) : epfd_(std::move(epfd)) {}

  UniqueFd epfd_;
  std::map<int, Handler> handlers_;
  bool stopped_ = false;
};

}  // namespace hull::agent::init
