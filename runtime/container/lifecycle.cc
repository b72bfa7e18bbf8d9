#include "runtime/container/lifecycle.h"

namespace hull::container {

Result<ContainerStatus> transition(const std::string& id, ContainerStatus from, Op op,
                                   ContainerStatus paused_from) {
  using S = ContainerStatus;
  auto state_err = [](std::string msg) { return fail(Errc::InvalidState, std::move(msg)); };
  switch (op) {
    case Op::Start:
      if (from == S::Created) return S::Running;
      if (from == S::Stopped) return state_err("cannot start a container that has stopped");
      if (from == S::Running) return state_err("cannot start an already running container");
      return state_err("cannot start a container in the " + std::string(oci::status_name(from)) +
                       " state");
    case Op::Pause:
      if (from == S::Created || from == S::Running) return S::Paused;
      return fail(Errc::NotRunning, "container not running");
    case Op::Resume:
      if (from == S::Paused) return paused_from;
      return fail(Errc::InvalidState, "container not paused");
    case Op::Kill:
      if (from == S::Stopped || from == S::Creating) {
        return fail(Errc::NotRunning, "container not running");
      }
      return from;
    case Op::KillAll:
      return from;
    case Op::Delete:
      if (from == S::Stopped || from == S::Created || from == S::Creating) return S::Stopped;
      return state_err("cannot delete container " + id +
                       " that is not stopped: " + std::string(oci::status_name(from)));
    case Op::ForceDelete:
      return S::Stopped;
    case Op::Exec:
      if (from == S::Stopped || from == S::Creating) {
        return fail(Errc::NotRunning, "cannot exec in a stopped container");
      }
      if (from == S::Paused) return fail(Errc::Paused, "cannot exec in a paused container");
      return from;
  }
  return fail(Errc::Internal, "unknown container operation");
}

ContainerStatus derive_status(ContainerStatus cached, bool monitor_alive) {
  if (!monitor_alive) return ContainerStatus::Stopped;
  return cached;
}

}  // namespace hull::container
