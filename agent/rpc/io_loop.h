// IoLoop: the agent's second event loop, on a thread of its own, for the fds
// the RPC layer streams from (stdout/stderr pipes, pty masters) and the OOM
// watch (inotify). The main loop (hull::EventLoop in agent/init/init.h)
// stays PID 1's: reaping and accepting. Both are common/event_loop.h's.
//
// Every fd is watched one-shot: its handler runs once on the loop thread and
// the fd stays quiet until rearm(). That is how a stdio stream applies
// back-pressure: it reads one chunk, hands it to gRPC and rearms only when
// gRPC has taken the chunk.
//
// add(), rearm() and remove() may be called from any thread. A handler may
// still be running while remove() returns; handlers check their own liveness.
// Tokens, not fd numbers, key the handlers, so a closed and reused fd number
// never reaches a stale handler.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "common/error.h"
#include "common/event_loop.h"
#include "common/unique_fd.h"

namespace hull::agent::rpc {

class IoLoop {
 public:
  using Handler = std::function<void(uint32_t events)>;
  using Token = EventLoop::Token;

  static Result<std::unique_ptr<IoLoop>> start();
  ~IoLoop();  // stops and joins the thread
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  // Watches `fd` (not owned; keep it open until remove()) for `events`, one-shot.
  Result<Token> add(int fd, uint32_t events, Handler handler);
  // Arms the fd again for `events`.
  Status rearm(Token token, uint32_t events);
  // Stops watching; the handler does not start again after this returns.
  void remove(Token token);

 private:
  explicit IoLoop(EventLoop loop) : loop_(std::move(loop)) {}
  void run();

  EventLoop loop_;
  UniqueFd stop_;  // eventfd: the destructor's way to end run()
  std::thread thread_;
};

}  // namespace hull::agent::rpc
