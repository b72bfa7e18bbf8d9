// One process of a task: the container's init (exec_id "") or an exec'd one.
//
//   Created --start()--> Running --(the agent's WaitProcess returns)--> Stopped
//
// State changes happen under the process's lock, and the callbacks that
// publish TaskStart/TaskExecStarted and TaskExit run under it too: a start
// event is always queued before the exit event of the same process, and a
// Delete that sees Stopped comes after the TaskExit (containerd's order).
// Agent calls are made without the lock, so State, Kill and Wait never wait
// for a slow Start. They go through the pod's sandbox::ContainerClient, which
// must stay valid until stop() has returned (stop() cancels them).
//
// The exit status is what runc's shim reports: the exit code, or 128 + the
// signal that killed the process (the agent reports it so). When the agent
// cannot say (the VM is gone), the process counts as killed: 137.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "common/error.h"
#include "runtime/sandbox/cancel.h"
#include "runtime/sandbox/container_client.h"
#include "shim/io.h"

namespace hull::shim {

enum class ProcState { Created, Running, Stopped };
std::string_view state_name(ProcState s);

struct ExitRecord {
  uint32_t status = 0;
  std::chrono::system_clock::time_point at;
};

// 128 + SIGKILL: how a process the shim could not wait for is reported.
inline constexpr uint32_t kKilledStatus = 137;

class Process {
 public:
  // Runs under the process's lock when the process has stopped.
  using OnExit = std::function<void(const Process&, const ExitRecord&)>;

  Process(std::string container_id, std::string exec_id, StdioPaths stdio,
          std::unique_ptr<IoRelay> io, std::string process_json, OnExit on_exit);
  ~Process();  // stop()
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  const std::string& container_id() const { return container_id_; }
  const std::string& exec_id() const { return exec_id_; }
  // The id containerd knows the process by: the exec id, or the container id.
  const std::string& id() const { return exec_id_.empty() ? container_id_ : exec_id_; }
  const StdioPaths& stdio() const { return stdio_; }
  const std::string& process_json() const { return process_json_; }

  ProcState state() const;
  std::optional<ExitRecord> exit() const;

  // Starts copying stdio (the agent has made the process).
  void attach_io(sandbox::ContainerClient& client);
  IoRelay& io() { return *io_; }

  // Created -> Running: runs `in_guest` (the agent call that starts the
  // process) without the lock, then `started` under it, then waits for the
  // exit on a thread of its own. Errc::InvalidState unless Created (or while
  // another start runs).
  Status start(sandbox::ContainerClient& client, const std::function<Status()>& in_guest,
               const std::function<void()>& started);

  // Blocks until the process has stopped; nullopt when `stop` is requested first.
  std::optional<ExitRecord> wait(std::stop_token stop);

  // Created -> Stopped without it ever running (Delete of a created task).
  void stop_unstarted(uint32_t status);

  // A terminal size asked for before the process runs; applied by whoever starts it.
  void set_pending_size(uint32_t rows, uint32_t cols);
  std::optional<std::pair<uint32_t, uint32_t>> take_pending_size();

  // Cancels the wait and the stdio copy now and joins their threads (teardown).
  void stop();

 private:
  void watch(sandbox::ContainerClient& client);
  void set_exited(const ExitRecord& e);  // mu_ held

  const std::string container_id_;
  const std::string exec_id_;
  const StdioPaths stdio_;
  const std::string process_json_;
  const OnExit on_exit_;
  std::unique_ptr<IoRelay> io_;
  sandbox::Canceller calls_;  // the wait (stop() cancels it)

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  ProcState state_ = ProcState::Created;                       // guarded by mu_
  bool starting_ = false;                                      // guarded by mu_
  std::optional<ExitRecord> exit_;                             // guarded by mu_
  std::optional<std::pair<uint32_t, uint32_t>> pending_size_;  // guarded by mu_

  std::mutex stop_mu_;
  bool stopped_ = false;  // guarded by stop_mu_
  std::thread waiter_;    // guarded by stop_mu_
};

}  // namespace hull::shim
