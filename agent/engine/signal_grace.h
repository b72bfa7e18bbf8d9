#pragma once
// A signal sent to a container init right after start.
//
// The init of a pid namespace never gets a signal it has no handler for (the
// kernel drops it; only SIGKILL and SIGSTOP are forced). A shell that starts
// with `trap ... TERM` is safe with runc because runc's kill arrives long after
// the shell ran its first lines. In a TCG guest the first instructions of a new
// program run 10-100x slower (every page of code is translated once), so a
// kill right after start can beat the handler it targets and be lost.
//
// So for a short grace period after start, Container::signal waits until the
// init both has a disposition for the signal (caught or ignored) and is
// blocked in the kernel (State S), as a shell in `wait` or a server in its
// event loop is: installing a handler is not enough, a shell that gets its
// trap while still starting a job runs it only after that job. Past the grace
// period, or for an init that is not a pid namespace's, nothing waits.

#include <chrono>
#include <string_view>

namespace hull::engine {

inline constexpr std::chrono::milliseconds kSignalGrace{1000};

// True when /proc/<pid>/status text says the process catches or ignores `sig`
// (SigCgt / SigIgn masks). False when it does not, or when a mask is missing
// or malformed.
bool signal_disposition_set(std::string_view proc_status, int sig);

// signal_disposition_set() and State is S (sleeping in a syscall).
bool settled_for_signal(std::string_view proc_status, int sig);

}  // namespace hull::engine
