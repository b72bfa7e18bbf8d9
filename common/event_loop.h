// EventLoop: one epoll instance whose registrations are keyed by a token,
// never by fd number. Used by the agent's PID 1 loop (agent/init), its I/O
// thread (agent/rpc/io_loop.h) and hull-vsock (runtime/vsock).
//
//   auto loop = EventLoop::create();
//   HULL_ASSIGN(token, loop->add(fd, EPOLLIN, [&](uint32_t events) -> Status { ... }));
//   HULL_TRY(loop->run());            // until stop() or a handler's error
//   HULL_TRY(loop->remove(token));    // before fd is closed
//
// Every event carries the token of the registration it was armed for. An fd
// that is removed, closed and whose number is reused by a new registration
// can never deliver a stale event to the new owner, nor the new owner's
// events to the old handler: the old token is gone, and an event of a batch
// whose token was removed earlier in that batch is dropped. remove() and
// modify() of a token whose fd number a newer registration holds leave the
// newer one alone.
//
// Handlers run on the thread that calls run_once() or run(), one at a time,
// and receive the epoll event bits; they may add, modify or remove
// registrations, their own included. add(), modify(), remove() and
// watching() may also be called from other threads; an event the loop has
// already picked up may then still reach the handler after remove() returns
// (such handlers check their own liveness). A handler returns Status (an
// error ends run_once() with it) or nothing.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull {

class EventLoop {
 public:
  using Token = uint64_t;  // never 0
  using Handler = std::function<Status(uint32_t events)>;

  static Result<EventLoop> create();
  EventLoop(EventLoop&&) noexcept = default;
  EventLoop& operator=(EventLoop&&) noexcept = default;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` (not owned: keep it open until remove()) for `events`
  // (EPOLLONESHOT included: then modify() arms it again).
  template <class F>
  Result<Token> add(int fd, uint32_t events, F handler) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, uint32_t>>) {
      return add_handler(fd, events, [h = std::move(handler)](uint32_t ev) mutable -> Status {
        h(ev);
        return {};
      });
    } else {
      return add_handler(fd, events, Handler(std::move(handler)));
    }
  }

  // Watches the registration's fd for `events` from now on.
  Status modify(Token token, uint32_t events);
  // Stops watching. Errc::NotFound for a token that is not registered.
  Status remove(Token token);
  bool watching(Token token) const;

  // Waits up to timeout_ms (-1: forever) and runs the handlers of the ready
  // registrations once; the first handler error ends the round and is returned.
  Status run_once(int timeout_ms);
  // Runs rounds until stop() or a handler's error.
  Status run();
  // Ends run() after the current round (call it from a handler, or wake the
  // loop with an fd of its own).
  void stop() { state_->stopped = true; }

 private:
  struct Watch {
    int fd;
    std::shared_ptr<Handler> handler;
  };
  struct State {
    mutable std::mutex mu;
    std::unordered_map<Token, Watch> watches;  // guarded by mu
    std::unordered_map<int, Token> newest;     // fd number -> its newest token; guarded by mu
    Token next = 1;                            // guarded by mu
    std::atomic<bool> stopped{false};
  };

  explicit EventLoop(UniqueFd epfd) : epfd_(std::move(epfd)), state_(std::make_unique<State>()) {}
  Result<Token> add_handler(int fd, uint32_t events, Handler handler);

  UniqueFd epfd_;
  std::unique_ptr<State> state_;
};

}  // namespace hull
