// Starting the container's init from a multi-threaded process (the agent).
//
// Nothing non-trivial may run in a child of a plain fork() there, so the engine
// re-executes its own binary: clone(CLONE_VM|CLONE_VFORK) whose child only
// dup2()s the listed fds to their target numbers and execve()s /proc/self/exe
// with argv[1] == kInitArg. Everything else the agent holds is O_CLOEXEC, and
// the init closes any stray fd at once. The binary's main() must call
// maybe_run_init() (container_init.h) first.
#pragma once

#include <sys/types.h>

#include <span>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::engine {

inline constexpr std::string_view kInitArg = "__hull_init";

struct FdMapping {
  int source;  // an fd of the caller (not consumed)
  int target;  // its number in the child; < kMaxTargetFd
};
inline constexpr int kMaxTargetFd = 64;

struct Spawned {
  pid_t pid = -1;
  UniqueFd pidfd;
};

// Spawns "/proc/self/exe __hull_init" with exactly `fds` open. The child's
// exit signal is SIGCHLD and its parent the caller.
Result<Spawned> spawn_init(std::span<const FdMapping> fds);

// Reaps a child the engine started and owns, through its pidfd. ECHILD (the
// caller's reaper got it first) is success. Blocks until the child exits.
void reap_owned(int pidfd);

}  // namespace hull::engine
