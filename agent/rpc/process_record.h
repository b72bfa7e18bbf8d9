// What the agent keeps per process it started in a container (the init or an
// exec'd process): its stdio and its exit status with the WaitProcess calls
// waiting for it.
//
// Exit statuses come from PID 1's reaper (agent/init/reaper.h): the registry
// watches each pid while holding the reaper (so a fast exit cannot be reaped
// as an orphan first) and the reaper's callback calls on_reaped() on the main
// loop's thread. WaitProcess never holds a thread: it is a call on the call
// queue (call_queue.h) that on_reaped() (or its cancellation) finishes.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent.pb.h"
#include "agent/engine/container.h"
#include "agent/rpc/call_queue.h"
#include "agent/rpc/stdio.h"

namespace hull::agent::rpc {

class ProcessRecord {
 public:
  using Waiter = std::function<void(int wait_status)>;

  ProcessRecord(std::string container_id, std::string exec_id)
      : container_id_(std::move(container_id)), exec_id_(std::move(exec_id)) {}

  const std::string& container_id() const { return container_id_; }
  const std::string& exec_id() const { return exec_id_; }

  // Set once at creation, before the record is shared.
  pid_t pid = -1;
  std::shared_ptr<engine::Container> container;  // the init's container (exec: null)
  std::unique_ptr<engine::Process> process;      // an exec'd process (init: null)
  ProcessIo io;

  // From the reaper: feeds the engine and every waiter.
  void on_reaped(pid_t pid, int wait_status);
  // Runs `w` with the status at once if known, else when the process ends.
  // Waiters whose `pending` says false (their call was cancelled) are dropped
  // whenever another is added, so retried waits do not pile up.
  void add_waiter(Waiter w, std::function<bool()> pending = {});
  // The waitpid() status once reaped.
  std::optional<int> wait_status() const;
  // A WaitProcess call has been given the exit status.
  bool reported() const;
  // Ends every waiter still waiting with `why` (the sandbox is going away).
  void abandon_waiters();

 private:
  std::string container_id_;
  std::string exec_id_;
  mutable std::mutex mu_;
  std::optional<int> wait_status_;  // guarded by mu_
  struct Entry {
    Waiter fn;
    std::function<bool()> pending;
  };
  std::vector<Entry> waiters_;  // guarded by mu_
  bool abandoned_ = false;      // guarded by mu_
  bool reported_ = false;       // guarded by mu_
};

// WaitProcessResponse for a waitpid() status. Pure.
WaitProcessResponse wait_response(int wait_status);

// A WaitProcess call on `rec`: finished when the process ends, or CANCELLED
// when the host gives up (deadline). Never null.
UnaryReactor* wait_for_exit(const std::shared_ptr<ProcessRecord>& rec, WaitProcessResponse* reply);

// The status abandoned waiters get.
inline constexpr int kAbandonedStatus = -1;

}  // namespace hull::agent::rpc
