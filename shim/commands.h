// The shim's three modes (flags.h): `start`, `delete`, and the daemon
// `start` re-executes. Each returns the process's exit code.
#pragma once

#include "shim/flags.h"

namespace hull::shim {

// Prints only the ttrpc address containerd dials (exit 0), or the error (exit 1).
int cmd_start(const ShimFlags& f);
// Cleans up after a dead shim; prints a DeleteResponse protobuf.
int cmd_delete(const ShimFlags& f);
// Serves containerd.task.v2.Task on fd 3 until Shutdown.
int run_daemon(const ShimFlags& f);

// The daemon's listening socket, as `start` hands it over.
inline constexpr int kListenerFd = 3;
inline constexpr const char* kBinaryName = "containerd-shim-hull-v2";

}  // namespace hull::shim
