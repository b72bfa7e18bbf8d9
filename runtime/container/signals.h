// Signal names as `runc kill` accepts them: "KILL", "SIGKILL", "kill" and "9"
// all mean SIGKILL; real-time signals as "RTMIN+3" / "SIGRTMAX-1" / "37".
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace hull::container {

// Errc::Invalid naming the input when it is neither a known name nor a number
// in [0, SIGRTMAX]. 0 (only as a number, as with runc) is the liveness probe:
// kill(2)'s checks without a signal.
Result<int> parse_signal(std::string_view text);

// "SIGTERM" for 15, "SIGRTMIN+2" for real-time signals, the number otherwise.
std::string signal_name(int sig);

// True when `sig`'s default action ends a process (terminate or core dump).
// False for the ones that stop it (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU), that
// are ignored (SIGCHLD, SIGURG, SIGWINCH), SIGCONT, 0 and numbers outside
// 1..SIGRTMAX. A guest may report "killed by" any of these; only the first
// kind can be re-raised to mirror that end.
bool signal_ends_process(int sig);

}  // namespace hull::container
