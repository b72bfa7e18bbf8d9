// Relay: the monitor's work while its process runs in the guest.
//
//   stdin fd  --read--> Guest::write_stdin        (EOF -> Guest::close_stdin)
//   Guest::read_output(stdout) --write--> stdout fd
//   Guest::read_output(stderr) --write--> stderr fd   (pipes mode only)
//   signalfd: SIGWINCH -> Guest::resize(size of the host pty)
//             any other -> Guest::signal(process, sig)
//   Guest::wait -> the exit status; run() returns it once both output
//                  streams have drained (bounded by kOutputDrain)
//
// One thread per blocking direction (the Guest API is blocking gRPC); the
// caller's thread runs the signal loop. Descriptors are borrowed.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/child_process.h"
#include "common/error.h"
#include "runtime/container/guest.h"

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
  Relay(Guest& guest, ProcessRef process, RelayFds fds, bool terminal)
      : guest_(guest), process_(std::move(process)), fds_(fds), terminal_(terminal) {}

  // Relays until the process ends; returns its exit status. Errors: the
  // guest could not report one (the VM died): the caller treats the
  // container as killed.
  Result<ExitStatus> run();

  // One signal as the signal loop handles it (public for tests).
  void handle_signal(int sig);

 private:
  Guest& guest_;
  ProcessRef process_;
  RelayFds fds_;
  bool terminal_;
};

}  // namespace hull::container
