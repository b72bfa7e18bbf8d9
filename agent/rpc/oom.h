// OOM events: the agent watches each container cgroup's memory.events with
// inotify (cgroup v2 reports a "modified" event on every change) on the io
// loop, and sends one OomEvent per increment of its oom_kill counter to every
// OomEvents stream. A stream that cannot keep up loses the oldest events
// beyond kMaxQueuedOomEvents (counted in the agent's log), never the agent's
// memory.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "agent.pb.h"
#include "agent/rpc/call_queue.h"
#include "agent/rpc/io_loop.h"
#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::agent::rpc {

inline constexpr size_t kMaxQueuedOomEvents = 1024;

struct OomSubscriber;

class OomMonitor {
 public:
  static Result<std::unique_ptr<OomMonitor>> start(IoLoop& loop);
  ~OomMonitor();
  OomMonitor(const OomMonitor&) = delete;
  OomMonitor& operator=(const OomMonitor&) = delete;

  // Starts watching `memory_events` (a cgroup's memory.events file) for `container_id`.
  Status watch(const std::string& container_id, const std::string& memory_events);
  void unwatch(const std::string& container_id);

  // A new OomEvents stream. Never null.
  StreamReactor<OomEvent>* subscribe();
  // Ends every stream (OK): the sandbox is going away.
  void close_streams();

 private:
  OomMonitor(IoLoop& loop) : loop_(loop) {}
  void on_readable();
  void publish(const std::string& container_id, uint64_t count);

  struct Watched {
    std::string container_id;
    std::string path;
    uint64_t oom_kills = 0;
  };

  IoLoop& loop_;
  UniqueFd inotify_;
  IoLoop::Token token_ = 0;
  std::mutex mu_;
  std::map<int, Watched> watched_;                        // by inotify wd; guarded by mu_
  std::set<std::shared_ptr<OomSubscriber>> subscribers_;  // guarded by mu_
  friend struct OomSubscriber;
  friend class OomStream;
};

}  // namespace hull::agent::rpc
