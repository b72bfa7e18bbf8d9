// EventLoop: one epoll instance, single-threaded.
// Handlers own their fds and receive the event bits. A handler may add or
// remove registrations, including its own, while it runs: events for an fd
// removed earlier in the same batch are not delivered.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::vsock {

class EventLoop {
 public:
  using Handler = std::function<void(uint32_t events)>;

  static Result<EventLoop> create();

  Status add(int fd, uint32_t events, Handler handler);
  Status modify(int fd, uint32_t events);
  void remove(int fd);
  bool watching(int fd) const { return handlers_.contains(fd); }

  // Waits up to timeout_ms (-1: forever) and runs the handlers of ready fds.
  Status run_once(int timeout_ms);

 private:
  struct Entry {
    uint32_t generation;
    Handler handler;
  };
  UniqueFd epfd_;
  uint32_t next_generation_ = 1;
  std::unordered_map<int, Entry> handlers_;
};

}  // namespace hull::vsock
