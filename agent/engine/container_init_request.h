// Internal: what the engine sends the init in the Config message (sync.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/engine/seccomp.h"
#include "common/error.h"

namespace hull::engine {

enum class InitMode { Create, Exec };

// A namespace the exec'd process joins: `fd` is already open at that number
// in the init (the engine mapped it there).
struct JoinFd {
  int flag = 0;  // CLONE_NEW*
  int fd = -1;
};

struct InitRequest {
  InitMode mode = InitMode::Create;
  std::string spec_json;     // the container's spec; for Exec its process is the exec'd one
  std::string rootfs;        // Create: absolute path in the agent's mount namespace
  std::string bundle;        // Create: base of relative bind-mount sources
  std::string id;            // Create: the container's id (startContainer hooks' state)
  std::string state_bundle;  // Create: the bundle as the caller names it (same)
  std::optional<SeccompProgram> seccomp;
  std::vector<JoinFd> join;  // Exec, user namespace first
};

std::string encode_request(const InitRequest& r);
Result<InitRequest> decode_request(std::string_view text);

// The first fd number the engine uses for JoinFd entries.
inline constexpr int kFirstJoinFd = 4;

}  // namespace hull::engine
