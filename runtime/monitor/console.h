// The caller's terminal for a container process in the foreground: `hull run`
// or `hull exec` of a process.terminal process without --console-socket,
// which runc serves with a console of its own relayed to its stdio.
//
//   hull run / exec                         hull __monitor
//     ConsoleReceiver::listen()  (private dir, 0700, one socket)
//     create / exec, --console-socket = that socket ------>|
//     |<----------------- pty master (SCM_RIGHTS) ----------| open_terminal
//     receive(): the master; the socket and its dir go
//     size of the caller's terminal -> master  (the monitor sees SIGWINCH
//                                               and resizes the guest's pty)
//     RawTerminal on the caller's stdin (when it is a terminal)
//     relay_console(): stdin -> master, master -> stdout, SIGWINCH -> resize,
//       other signals -> the monitor, until the monitor ends and the master
//       is drained; the terminal mode is restored by RawTerminal's destructor
//       on every way out.
#pragma once

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <termios.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::container {

// A listening unix socket in a private temporary directory; both go when the
// receiver is destroyed (or once receive() has the master).
class ConsoleReceiver {
 public:
  static Result<ConsoleReceiver> listen();
  ConsoleReceiver(ConsoleReceiver&& o) noexcept;
  ConsoleReceiver& operator=(ConsoleReceiver&&) = delete;
  ConsoleReceiver(const ConsoleReceiver&) = delete;
  ~ConsoleReceiver();

  const std::string& path() const { return path_; }
  // The pty master a monitor sent, waiting up to `timeout` for it.
  Result<UniqueFd> receive(std::chrono::milliseconds timeout);

 private:
  ConsoleReceiver() = default;
  void remove();

  std::string dir_;
  std::string path_;
  UniqueFd listener_;
};

// Raw mode on a terminal for this object's lifetime (cfmakeraw, as runc sets
// its stdin); a no-op when the fd is not a terminal.
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_ = -1;
  std::optional<termios> saved_;
};

// The window size of the caller's terminal (stdin, else stdout); nullopt
// when neither is a terminal.
std::optional<winsize> caller_window_size();

// Copies the window size of the caller's terminal (stdin, else stdout) to the
// pty master; nothing when neither is a terminal.
void copy_window_size(int master);

// `process_json` (an OCI process object) with consoleSize set to `size`, as
// `exec -t` in the foreground sends it: the guest starts an exec'd process
// as soon as it is asked to, before this side has the master and can resize
// the guest's pty through the monitor, so a pty made without the size has 0
// rows until then and a first `stty size` in it fails. A process that names
// its consoleSize keeps it; a size of 0 rows or columns sets none.
// Errc::Invalid when `process_json` is not a JSON object. Pure.
Result<std::string> with_console_size(std::string_view process_json, const winsize& size);

// The signals `run` and `exec` in the foreground pass on to the container's
// monitor (runc forwards every signal it gets): each that ends a process by
// default and can be caught, real-time ones included, and SIGWINCH. Left out:
// SIGPIPE (ours), the faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
// SIGTRAP, SIGSYS: the monitor does not forward them either), SIGCHLD and
// the job-control signals.
sigset_t foreground_signals();

// Blocks foreground_signals() for its lifetime: held by run / exec from
// before create until the end of their cleanup, so no signal can end them
// with the container left running or the terminal raw. A signal that arrives
// during create stays pending and is forwarded once the process runs (as
// runc does); one no relay took (create failed, or during the final delete)
// is dropped before the mask is restored, as runc drops it.
class ForegroundSignalsBlocked {
 public:
  ForegroundSignalsBlocked();
  ~ForegroundSignalsBlocked();
  ForegroundSignalsBlocked(const ForegroundSignalsBlocked&) = delete;
  ForegroundSignalsBlocked& operator=(const ForegroundSignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

// Relays between this process's stdio and `master` until the monitor `pid`
// (our child) ends, forwarding foreground_signals() to it (those pending
// since before the call too) and turning SIGWINCH into a resize of the
// master. Returns the monitor's status as a shell reports it (code, or
// 128 + signal).
Result<int> relay_console(pid_t pid, int master);

}  // namespace hull::container
