// Which shim serves a task, and where it listens (containerd 1.6's
// convention, runtime/v2/shim/util_unix.go and runc's manager):
//
//   group   = the bundle's io.kubernetes.cri.sandbox-id annotation (every
//             container of a CRI pod names its pod's sandbox), else the task id
//   address = unix:///run/containerd/s/<hex sha256 of "<grpc address>/<ns>/<group>">
//
// The pod's first task starts the shim there; every later task of the pod
// finds that address taken by a live shim and reuses it: one shim, and one VM,
// per pod.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/error.h"

namespace hull::shim {

inline constexpr std::string_view kSocketDir = "/run/containerd/s";
inline constexpr std::string_view kSandboxIdAnnotation = "io.kubernetes.cri.sandbox-id";
inline constexpr std::string_view kContainerTypeAnnotation = "io.kubernetes.cri.container-type";

// Pure: the pod a task belongs to (see above). Errc::Invalid when the
// annotation is set but is not a valid id (it becomes a path component).
Result<std::string> group_of(const std::map<std::string, std::string>& annotations,
                             const std::string& task_id);

// Pure: Go's filepath.Join of the parts (joined by '/', then cleaned:
// repeated slashes, "." and ".." resolved lexically).
std::string join_clean(std::initializer_list<std::string_view> parts);

// Pure: lower-case hex of SHA-256.
std::string sha256_hex(std::string_view data);

// Pure: "unix:///run/containerd/s/<hash>" for the group.
std::string socket_address(std::string_view grpc_address, std::string_view ns,
                           std::string_view group);

// The socket path of a "unix://" address (the address itself otherwise).
std::string socket_path_of(std::string_view address);

}  // namespace hull::shim
