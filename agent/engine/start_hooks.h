// startContainer hooks, run by the container's init inside the container
// (runtime-spec config.md "startContainer Hooks"; runc's init does the same).
//
// When: in `start`, after the engine's Start message and after the
// container's seccomp filter is loaded (with noNewPrivileges it is loaded
// right after Start, without it during setup), right before the execve of
// process.args. Where: in every namespace of the container, below its
// pivot_root, as its user with its capabilities, in process.cwd, and subject
// to its seccomp filter: a hook that makes a call the profile kills dies by
// SIGSYS, and the start fails naming the hook.
//
// What a hook gets:
//   path      resolved in the container's rootfs (it must be absolute)
//   argv      args, or just the path
//   env       env when given; otherwise the container process's environment
//             (runc's init has set it up as its own by then)
//   stdin     the state: ociVersion, id, status "created", pid (the init's
//             pid in the container's pid namespace: 1 with a new one, as
//             runc reports), bundle (the caller's path), annotations
//   timeout   as on the host (hooks.h): the hook and its process group die
//
// A failing hook stops the list; the init reports the error to the engine
// (Container::start returns it) and exits, so the user's process never runs.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "common/hooks/hooks.h"
#include "common/oci/spec.h"

namespace hull::engine {

// Pure: the spec's startContainer hooks, with `process_env` as the
// environment of each hook that has none of its own.
std::vector<hooks::Hook> start_hooks(const oci::Spec& spec,
                                     const std::vector<std::string>& process_env);

// Pure: the state a startContainer hook reads on stdin.
std::string start_hook_state(const oci::Spec& spec, const std::string& id,
                             const std::string& bundle, int pid);

// Runs `list` in order (the init, in the container); the first failure is the error.
Status run_start_hooks(const std::vector<hooks::Hook>& list, const std::string& state);

}  // namespace hull::engine
