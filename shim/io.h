// A process's stdio: containerd's fifos (the paths of CreateTaskRequest /
// ExecProcessRequest) on the host, the agent's stdio streams on the other
// side, reached through the pod's sandbox::ContainerClient.
//
//   stdin fifo  --read--> write_stdin          (EOF or CloseIO -> close_stdin)
//   read_output(Stdout) --write--> stdout fifo (the pty's stream with a terminal)
//   read_output(Stderr) --write--> stderr fifo (pipes only)
//
// The host ends are opened before the process exists (open()), as the
// containerd client expects, and closed when the process's output has ended
// (after its exit: at EOF, or after `drain`), so the client's copy sees EOF
// and `ctr` can go on to delete the task. An output reader that went away
// (EPIPE: `ctr run -d` exited) loses what is written meanwhile, and gets the
// stream again if it reopens the fifo. One thread per direction.
//
// A path is a fifo, "file:///abs/path" (appended to), empty (no stream;
// output is read and dropped, so the process never blocks on a full pipe), or
// "binary:///abs/logger?key=value&..." for stdout: a logging binary, started
// as containerd's runc shim starts one, gets both output streams:
//
//   argv     the logger, then each query key and its (first) value, in the
//            order of the query ("?fmt=json&tag" -> fmt json tag "")
//   env      exactly CONTAINER_ID (the container's id; an exec's id for an
//            exec) and CONTAINER_NAMESPACE (containerd's namespace)
//   fds      3: read end of the stdout pipe, 4: of the stderr pipe (EOF at
//            once with a terminal), 5: write end of its readiness pipe;
//            0-2 /dev/null
//
// The logger writes a byte to fd 5 or closes it when it is ready; open()
// waits for that (kLoggerReadyTimeout) before the process is made, and fails
// naming the logger when it exits first or does not answer. When the
// process's output has ended the pipes are closed (the logger sees EOF); the
// logger then has kLoggerExitWait to exit, then SIGTERM and kLoggerExitWait
// more, then SIGKILL; its process group is killed and it is reaped, so
// nothing of it outlives the process.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/child_process.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "runtime/sandbox/cancel.h"
#include "runtime/sandbox/container_client.h"

namespace hull::shim {

struct StdioPaths {
  std::string in;
  std::string out;
  std::string err;
  bool terminal = false;
};

// Who a logging binary logs for (its environment).
struct LoggerEnv {
  std::string id;  // CONTAINER_ID
  std::string ns;  // CONTAINER_NAMESPACE
};

enum class TargetKind { None, Fifo, File, Binary };
struct StdioTarget {
  TargetKind kind = TargetKind::None;
  std::string path;               // absolute, percent-decoded
  std::vector<std::string> args;  // Binary: the query, as key value pairs
};

// Pure: what a stdio path names. Errc::Invalid for an unknown scheme, a
// relative path, a binary:// with a host or a bad %-escape.
Result<StdioTarget> parse_stdio_path(std::string_view uri);

// How long a logging binary may take to signal that it is ready.
inline constexpr std::chrono::milliseconds kLoggerReadyTimeout{10000};
// How long a logging binary may take to exit after its pipes closed (and
// again after SIGTERM).
inline constexpr std::chrono::milliseconds kLoggerExitWait{2000};

// How long output may still come after the process ended (a child that keeps
// the pipe open) before the host ends are closed anyway.
inline constexpr std::chrono::milliseconds kOutputDrain{5000};
// How long the exit of a process waits for its output to reach the host
// ends first: the exit and the output come from the guest on separate
// streams, and a client that has its exit deletes the process and stops
// copying (ctr), so output still in flight would be lost. Part of the drain.
inline constexpr std::chrono::milliseconds kExitOutputWait{2000};
inline constexpr size_t kStdinChunkBytes = 64 * 1024;

class IoRelay {
 public:
  static Result<std::unique_ptr<IoRelay>> open(const StdioPaths& paths,
                                               const LoggerEnv& logger = {});
  ~IoRelay();  // stop()
  IoRelay(const IoRelay&) = delete;
  IoRelay& operator=(const IoRelay&) = delete;

  bool has_stdin() const { return static_cast<bool>(in_); }

  // Starts copying for the process (the agent has made it). `client` must
  // outlive the relay's threads (until finish() or stop() returns).
  void start(sandbox::ContainerClient& client, const std::string& container_id,
             const std::string& exec_id);
  // CloseIO(stdin): what the fifo holds still goes in, then the process's
  // stdin is closed.
  void close_stdin();
  // Waits up to `timeout` for the process's output streams to end (all of
  // it written to the host ends); true when they have.
  bool wait_outputs(std::chrono::milliseconds timeout);
  // The process ended: waits up to `drain` for its output to end, then
  // cancels the streams; joins every thread and closes the host ends.
  void finish(std::chrono::milliseconds drain = kOutputDrain);
  // Cancels everything now and joins (teardown; idempotent).
  void stop();

 private:
  IoRelay() = default;
  void copy_output(bool stderr_stream, int fd);
  void copy_input();
  // Writes a chunk to the output fd: false when told to stop.
  bool write_output(int fd, std::string_view data);
  Status send_stdin(std::string_view data);
  void join();
  Status start_logger(const StdioTarget& t, const LoggerEnv& env);
  void stop_logger();

  sandbox::ContainerClient* client_ = nullptr;
  std::string container_id_;
  std::string exec_id_;
  bool terminal_ = false;

  UniqueFd in_;
  UniqueFd out_;
  UniqueFd err_;
  UniqueFd wake_;        // eventfd: close_stdin / stop for the stdin thread
  ChildProcess logger_;  // binary:// (out_ and err_ are its pipes' write ends)

  sandbox::Canceller calls_;  // every agent call (stop() cancels them)
  std::atomic<bool> stop_{false};
  std::atomic<bool> close_in_{false};

  std::mutex stop_mu_;  // one stop() at a time (finish() and teardown may race)
  std::mutex mu_;
  std::condition_variable cv_;
  int outputs_running_ = 0;  // guarded by mu_
  bool started_ = false;     // guarded by mu_
  std::thread out_thread_, err_thread_, in_thread_;
};

}  // namespace hull::shim
