// Relay: the monitor's work while its process runs in the guest.
//
//   stdin fd  --read--> ContainerClient::write_stdin   (EOF -> close_stdin)
//   ContainerClient::read_output(stdout) --write--> stdout fd
//   ContainerClient::read_output(stderr) --write--> stderr fd   (pipes mode only)
//   signalfd: SIGWINCH -> ContainerClient::resize_tty(size of the host pty)
//             any other -> ContainerClient::signal(process, sig)
//   ContainerClient::wait -> the exit status; run() returns it once both output
//                            streams have drained (bounded by kOutputDrain)
//
// One thread per blocking direction (the client's calls block); the
// caller's thread runs the signal loop. Descriptors are borrowed.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/child_process.h"
#include "common/error.h"
#include "runtime/sandbox/container_client.h"

namespace hull::container {

// After the process ended, how long output may still trickle in.
inline constexpr std::chrono::milliseconds kOutputDrain{5000};
inline constexpr size_t kStdinChunkBytes = 64 * 1024;

struct RelayFds {
  int in = -1;         // -1: no stdin (the guest side gets none)
  int out = -1;        // -1: output is discarded
  int err = -1;        // ignored when terminal (merged into out)
  int tty = -1;        // the host pty slave whose window size SIGWINCH reports, or -1
  int signal_fd = -1;  // a signalfd for the signals to forward, or -1
};

class Relay {
 public:
  // The process: container `id`'s init (`exec_id` "") or its exec'd one.
  Relay(sandbox::ContainerClient& guest, std::string id, std::string exec_id, RelayFds fds,
        bool terminal)
      : guest_(guest),
        id_(std::move(id)),
        exec_id_(std::move(exec_id)),
        fds_(fds),
        terminal_(terminal) {}

  // Relays until the process ends; returns its exit status. Errors: the
  // guest could not report one (the VM died): the caller treats the
  // container as killed.
  Result<ExitStatus> run();

  // One signal as the signal loop handles it (public for tests).
  void handle_signal(int sig);

 private:
  sandbox::ContainerClient& guest_;
  std::string id_;
  std::string exec_id_;
  RelayFds fds_;
  bool terminal_;
};

}  // namespace hull::container
