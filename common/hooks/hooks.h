// OCI hooks (the OCI runtime spec's "POSIX-platform Hooks").
//
// The CLI runs prestart, createRuntime, createContainer (with the container's
// shared rootfs as working directory), poststart and poststop on the host; the
// container's init in the guest runs startContainer with this same runner,
// inside the container (agent/engine/start_hooks.h). docs/hooks.md says
// exactly where each kind runs.
//
// Failure rules (the OCI runtime spec's hooks and lifecycle sections), for the CLI to apply:
//
//   kind             status on stdin  when                              a failure means
//   prestart         creating         create, after the VM and the      stop the container (kill,
//   (deprecated)                      container exist, before the       delete the VM) and report
//                                     user process starts               the error; create fails
//   createRuntime    creating         create, same point as prestart    same as prestart
//   createContainer  creating         create, after createRuntime       same as prestart
//   startContainer   created          start, before the user process    stop the container and
//                                     runs (hull: in the container, by  report the error; start
//                                     its init in the guest)            fails
//   poststart        running          start, after the user process     log a warning; the other
//                                     started, before `start` returns   hooks and start continue
//   poststop         stopped          delete, after the VM and the      log a warning; the other
//                                     container are gone                hooks and delete continue
//
// run_hooks() implements "stop at the first failure" for the first four kinds
// and "warn and continue" for the last two (failure_rule()); the caller still
// has to do the stopping and the logging, since only it owns the container.
//
// Running a hook: spawn() (common/spawn.h), as hull starts every program:
// stdin, stdout and stderr mapped, every other fd closed, its own process
// group, default signal dispositions and an empty signal mask, argv[0] apart
// from the path, its own environment. It costs the same for a small CLI and a
// large shim and is safe in a multithreaded caller.
//
// The hook is the caller's child until it is reaped, so its pid (and its
// process group id) cannot be recycled before then: the timeout kills the
// hook's whole process group by pid, then reaps it. Its pidfd tells of the
// exit in poll() together with the output pipes. The caller must
// not set SIGCHLD to SIG_IGN (the exit status would be lost: Errc::Internal)
// nor reap children with waitpid(-1) on another thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/oci/spec.h"
#include "common/oci/state.h"

namespace hull::hooks {

enum class Kind { Prestart, CreateRuntime, CreateContainer, StartContainer, Poststart, Poststop };

// The name as config.json spells it: "prestart", "createRuntime", ...
std::string_view kind_name(Kind kind);

enum class OnFailure {
  Abort,  // stop the container, report the error; the remaining hooks do not run
  Warn,   // log a warning; the remaining hooks and the lifecycle continue
};
OnFailure failure_rule(Kind kind);

// The container status the spec's state carries while hooks of `kind` run.
oci::ContainerStatus status_during(Kind kind);

struct Hook {
  std::string path;                              // absolute path of a host binary
  std::optional<std::vector<std::string>> args;  // argv, args[0] is argv[0]; absent: {path}
  std::optional<std::vector<std::string>> env;   // absent: the runtime's own environment
  std::optional<std::chrono::seconds> timeout;   // absent: wait as long as it takes
};

// The hooks of one kind from config.json (empty when the spec has none).
std::vector<Hook> from_spec(const oci::Hooks& hooks, Kind kind);

// The runtime-spec "state" JSON a hook reads on stdin: ociVersion, id, status,
// pid (omitted when 0), bundle, annotations (omitted when empty), as runc
// writes it. hull-internal fields are never included.
std::string state_json(const oci::State& state);

// How one run ended.
struct Outcome {
  int exit_code = 0;  // 128 + signal when killed
  bool signaled = false;
  int signal = 0;
  std::string stdout_tail;  // the last kMaxCapture bytes of each stream
  std::string stderr_tail;
};

// Runs one hook with `state` on stdin and waits for it (up to its timeout).
// `cwd_fd` (borrowed): a directory the hook starts in (createContainer: the
// container's rootfs); -1: the caller's working directory.
// Errors: NotFound (no such binary), System (spawn failed), Timeout (killed
// at the deadline, with its process group). A non-zero exit is not an error
// here: it is returned in the Outcome.
Result<Outcome> run_one(const Hook& hook, std::string_view state, int cwd_fd = -1);

// Runs `hooks` in order with `state` on stdin, applying failure_rule(kind):
//   Abort kinds: returns the first failure; later hooks do not run.
//   Warn kinds:  runs every hook, appends each failure to `warnings`, succeeds.
// Messages name the kind, the index in config.json's array (0-based, as runc
// counts), the path and the reason:
//   prestart hook #0 (/usr/bin/foo): exited with status 2: <stderr tail>
//   poststop hook #1 (/usr/bin/bar): timed out after 5 s
// A hook that exits non-zero or is killed by a signal yields Errc::Invalid (the
// user's hook failed), a timeout Errc::Timeout, a missing binary Errc::NotFound.
Status run_hooks(Kind kind, std::span<const Hook> hooks, std::string_view state,
                 std::vector<Error>& warnings, int cwd_fd = -1);

// How long running all of `hooks` can take: the sum of their timeouts, or
// nullopt when one has none (it may run for ever). For a caller that waits on
// hooks run elsewhere (startContainer hooks run by the container's init).
std::optional<std::chrono::seconds> total_timeout(std::span<const Hook> hooks);

}  // namespace hull::hooks
