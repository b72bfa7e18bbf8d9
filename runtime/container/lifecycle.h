// The runc-mode container state machine: one enum (oci::ContainerStatus), one
// transition table, and status derivation from reality.
//
//            create               start                pause
//   (none) ---------> created -----------> running <----------> paused
//                       |  \______________ pause ____________/^   |
//                       |                                         | resume
//                       v  the monitor ends (container exited)    v
//                    stopped <-------------------------------- (any)
//
// state.json caches the last status a command set under the container lock
// (created, running, paused). It is never trusted alone: when the monitor
// process is gone (or its pid now names another process, detected by its
// start time) the container is stopped, whatever the cache says.
//
// Refusals use runc's exact words, which docker, containerd and podman show
// to their users and some of them match on.
#pragma once

#include "common/error.h"
#include "common/oci/state.h"

namespace hull::container {

using oci::ContainerStatus;

enum class Op { Start, Pause, Resume, Kill, KillAll, Delete, ForceDelete, Exec };

// What an operation turns `from` into, or the error runc gives (Errc::InvalidState,
// Errc::NotRunning or Errc::Paused). `paused_from` is the status a paused
// container returns to on resume (created or running).
Result<ContainerStatus> transition(const std::string& id, ContainerStatus from, Op op,
                                   ContainerStatus paused_from = ContainerStatus::Running);

// The status a container really has: `cached` from state.json, corrected by
// whether its monitor process still runs.
ContainerStatus derive_status(ContainerStatus cached, bool monitor_alive);

}  // namespace hull::container
