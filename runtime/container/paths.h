// Where hull finds its own binaries and a container's shared rootfs.
#pragma once

#include <string>

#include "common/error.h"
#include "common/unique_fd.h"
#include "runtime/config/config.h"
#include "runtime/container/record.h"

namespace hull::container {

inline constexpr const char* kHullVsockEnv = "HULL_VSOCK";

// The running hull binary (/proc/self/exe).
Result<std::string> self_exe();

// hull-vsock: next to the hull binary (installed: both in /usr/local/bin; the
// build tree links one next to the other), else $HULL_VSOCK. The error says
// where it looked.
Result<std::string> find_hull_vsock();

// The guest image when the config names the compiled default location
// (/usr/local/share/hull): <dir of hull>/../share/hull first when it has one,
// which is the same place for an install under another prefix, and in the
// build tree a link to <build>/guest. So a hull finds the image built with it,
// never an older install's (the agent inside must match), also for callers
// without $HULL_CONFIG (podman runs the runtime with an environment of its
// own). A configured path is never second-guessed.
void resolve_guest_image(config::Config& cfg);

// The container's rootfs as virtio-fs exports it: <sandbox>/shared/containers/
// <id>/rootfs, the bind mount of root.path the monitor made. Mounts made below
// it reach the guest (runtime/share/rootfs.h), so createContainer hooks start
// here, as runc starts them in the rootfs inside the container's mount
// namespace. Opened without following symlinks and checked to be root.path
// itself: the guest can rename entries of the shared dir.
Result<UniqueFd> open_shared_rootfs(const Record& r);

}  // namespace hull::container
