// spawn(): the one way hull starts a program (QEMU, virtiofsd, hull-vsock, a
// container's monitor, OCI hooks, helpers whose output it reads). The
// agent engine starts a container's init apart, for the reason
// agent/engine/spawn.h gives.
//
// What the child gets, in this order:
//
//   signals     every handler reset (it would run on the caller's memory);
//               default_signals: every disposition SIG_DFL and an empty
//               mask, whatever the caller blocks or ignores (`hull run`
//               holds the signals it forwards blocked)
//   directory   cwd_fd, when given
//   fds         exactly the `fds` map; 0-2 not in it are /dev/null; every
//               other descriptor is closed, O_CLOEXEC or not
//   group       its own session (default), its own process group, or ours
//   pre_exec    the caller's last step, when given (runtime/jail enters its
//               jail here: namespaces, root, identity, capabilities)
//   program     execve(path, argv, env): no PATH search
//
// The child is a clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) of the caller, as
// posix_spawn makes one: it costs the same in a large multi-threaded process
// as in a small one, and makes only async-signal-safe calls before execve.
// A step that fails in the child is reported back through an O_CLOEXEC pipe
// and becomes the error of spawn(), naming the program, the step and errno:
//   "virtiofsd: executing /usr/libexec/virtiofsd: No such file or directory"
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/error.h"
#include "common/unique_fd.h"

namespace hull {

// One descriptor the child inherits: the caller's `parent` fd becomes the
// child's fd number `child`.
struct FdMap {
  int parent = -1;
  int child = -1;
};

enum class ProcessGroup {
  NewSession,  // setsid(): no terminal signals from the caller's session
  NewGroup,    // setpgid(0, 0): the caller can kill the child's whole group
  Inherit,     // the caller's session and group
};

struct SpawnOptions {
  std::string path{};               // the program, absolute; empty: argv[0]
  std::vector<std::string> argv{};  // as the program sees it; argv[0] is its name
  // The environment; nullopt: the caller's own.
  std::optional<std::vector<std::string>> env{};
  // Every descriptor the child has (distinct child numbers, each below
  // kMaxSpawnFd); a parent fd may be given more than once.
  std::vector<FdMap> fds{};
  int cwd_fd = -1;  // a directory (borrowed) the child starts in; -1: the caller's
  ProcessGroup group = ProcessGroup::NewSession;
  bool default_signals = true;  // false: ignored signals stay ignored, the mask is kept
  // Start the child as PID 1 of a new PID namespace: killing it then kills
  // every process it forked (virtiofsd forks its worker into namespaces of
  // its own, which a pidfd on the parent alone could not reach).
  bool new_pid_namespace = false;
  // Runs in the child after every step above, with every signal still
  // blocked, just before the mask is set and execve: it may make only
  // async-signal-safe calls on memory prepared by the caller (the child
  // shares it). Returns 0, or -1 with errno set and *step naming what failed
  // ("pivot_root"); spawn() then fails with "<name>: <step> before executing
  // <path>" and that errno.
  int (*pre_exec)(const void* arg, const char** step) noexcept = nullptr;
  const void* pre_exec_arg = nullptr;  // passed to pre_exec
};

// The highest child fd number a map may name, plus one.
inline constexpr int kMaxSpawnFd = 1024;

// Starts the program and returns its owner. `name` is used in error messages
// ("qemu"). Errors: Errc::Invalid for options that cannot work (a relative
// path, a bad fd map), Errc::NotFound when execve says ENOENT, Errc::System
// for any other failure, with its errno.
Result<ChildProcess> spawn(std::string name, const SpawnOptions& opts);

// The absolute path of program `name`: `name` itself when it has a '/'
// (relative to the working directory), else the first PATH entry that holds
// an executable file of that name, as a shell finds it. Errc::NotFound
// (ENOENT) when there is none.
Result<std::string> find_program(const std::string& name);

// A log file a child writes its stdout and stderr to: created 0600, appended
// to, never through a symlink. Map it to fds 1 and 2.
Result<UniqueFd> open_output_log(const std::string& path);

}  // namespace hull
