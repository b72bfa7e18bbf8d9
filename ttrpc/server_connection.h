// One accepted connection of a ttrpc Server: a reader thread that parses
// frames and starts each call on a thread of its own, so a call that blocks
// (Task.Wait) never holds up the next one (Task.Kill) on the same connection.
// Answers are written whole under a write lock, in the order calls finish.
//
//   reader thread                      call thread (one per request)
//   poll(socket, wake, deadline)
//   frame -> Request -> handler  --->  handler(ctx, payload)
//   deadline passed: stop, answer          |
//     DEADLINE_EXCEEDED                    v
//                                     answer (unless already answered), wake
//   EOF / close(): stop every call, wait kStopGrace, shut the socket,
//   join every call, close the socket
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"
#include "ttrpc/frame.h"
#include "ttrpc/service.h"
#include "ttrpc/socket.h"

namespace ttrpc {
class Request;
}

namespace hull::ttrpc {

class ServerConnection {
 public:
  // `services` must outlive the connection; `on_finished` runs on the reader
  // thread once everything is done and the socket is closed.
  ServerConnection(UniqueFd fd, PeerCred peer, const ServiceMap& services,
                   std::function<void()> on_finished);
  ~ServerConnection();  // close() + join()

  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  Status start();
  // Asks the connection to end: running calls see their stop token.
  void close();
  // Waits until the reader, and through it every call, has finished.
  void join();
  bool finished() const { return finished_.load(); }

 private:
  using Clock = std::chrono::steady_clock;

  struct Call {
    uint32_t stream_id = 0;
    std::optional<Clock::time_point> deadline;
    std::stop_source stop;
    std::atomic<bool> answered{false};
    bool done = false;  // guarded by mu_
    std::thread thread;
  };

  void read_loop();
  void handle(const Parsed& frame);
  void start_call(uint32_t stream_id, ::ttrpc::Request& req, const Handler& handler);
  void run_call(Call& call, const ::ttrpc::Request& req, const Handler& handler);
  int poll_timeout_ms();
  void expire_deadlines();
  void reap(bool all);
  void stop_calls();
  void answer(uint32_t stream_id, const CallResult& result, std::string_view what);
  void wake();

  UniqueFd fd_;
  UniqueFd wake_;  // eventfd: close() and finished calls poke the reader
  PeerCred peer_;
  const ServiceMap& services_;
  std::function<void()> on_finished_;

  std::mutex write_mu_;  // one frame at a time on fd_

  std::mutex mu_;
  std::condition_variable call_done_;
  std::list<Call> calls_;  // guarded by mu_; each Call stays put until joined

  std::atomic<bool> closing_{false};
  std::atomic<bool> finished_{false};
  std::thread reader_;
};

}  // namespace hull::ttrpc
