// The relay process: `hull __relay`, the part of a monitor that talks to the
// guest for the whole life of its process (docs/security.md).
//
// Once a container's process runs, its monitor (root, the container's pid on
// the host) starts the relay through the jailer step (runtime/jail: the jail
// user, every capability set empty, NoNewPrivs, its own mount, IPC, UTS and
// network namespaces, a root holding /usr and the hull binary only), with
// everything it needs as descriptors:
//
//   0, 1, 2  the container's stdio: the monitor's own, or the host pty slave
//            on 0 when the process has a terminal
//   3        a stream already connected to the agent (hybrid vsock)
//   4        where the relay reports how the process ended (one line)
//   5        signals to forward: signalfd_siginfo records the monitor writes
//   6        the monitor's log
//
// The relay builds its gRPC channel on fd 3, installs its seccomp allow-list
// (runtime/monitor/seccomp_allowlist.txt, every thread, kill process), and
// runs Relay (relay.h). The monitor keeps its privileges for the teardown
// that follows: it waits for the relay, forwards the signals it receives,
// then stops the VM, unmounts and removes the sandbox. A relay that dies
// (a system call outside its list, garbage from the guest that it does not
// survive) ends only its own container, which is reported as killed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/child_process.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "runtime/jail/jail.h"
#include "runtime/jail/seccomp.h"

namespace hull::container {

inline constexpr const char* kRelayCommand = "__relay";
inline constexpr int kRelayAgentFd = 3;
inline constexpr int kRelayReportFd = 4;
inline constexpr int kRelaySignalFd = 5;
inline constexpr int kRelayLogFd = 6;

// What `hull __relay` is told on its command line.
struct RelayArgs {
  std::string id;
  std::string exec_id;  // "" for the container's init
  bool terminal = false;
  // Once the process has ended, DestroySandbox on the relay's connection
  // (runc mode, the container's init: its end is the VM's). The monitor's
  // teardown then need not dial the agent again.
  bool destroy_sandbox = false;
  bool debug = false;
  std::string log_format = "text";

  std::vector<std::string> to_argv(const std::string& exe) const;
};

// The relay's allow-list, compiled in from runtime/monitor/seccomp_allowlist.txt.
const std::vector<jail::SeccompRule>& relay_allowlist();

// Runs in `hull __relay`: confines itself, relays, reports. Returns the
// process's exit code (0 once a report is written).
int relay_main(const RelayArgs& args);

// The report line: "exit <code>", "signal <n>" or "error <text>"; an exit or
// signal is followed by " destroyed" when the relay's DestroySandbox was answered.
std::string format_relay_report(const Result<ExitStatus>& r, bool destroyed = false);
// Reads a report (what a possibly compromised relay wrote: checked, a code
// in 0-255, a signal in 1-64). Errc::GuestProtocol for anything else; an
// "error" report becomes Errc::NotRunning with its text (printable, capped).
// `destroyed` (if given) says whether the report ends in " destroyed".
Result<ExitStatus> parse_relay_report(std::string_view text, bool* destroyed = nullptr);

// What the monitor passes to its relay.
struct RelayLaunch {
  RelayArgs args;
  std::string binary;     // hull; empty: this program
  std::string jail_root;  // the sandbox's empty jail directory
  jail::Identity id;
  UniqueFd agent;                   // connected to the agent (hybrid vsock), given away
  int tty = -1;                     // the host pty slave with a terminal (borrowed)
  int signal_fd = -1;               // the monitor's signalfd (borrowed)
  bool* guest_destroyed = nullptr;  // set: the relay reported its DestroySandbox answered
};

// Starts the relay, forwards the signals read from launch.signal_fd until it
// ends, and returns how the container's process ended, or why the relay
// could not tell (it died, or the guest broke the connection): the caller
// reports the container as killed.
Result<ExitStatus> run_relay_process(RelayLaunch launch);

}  // namespace hull::container
