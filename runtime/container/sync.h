// The handshake between `hull create` (or `hull exec`) and the monitor it
// starts (`hull __monitor`), over a SOCK_SEQPACKET socketpair: one JSON object
// per packet, {"type": "<name>", ...}. Named messages, not numbers (STYLE 15).
//
//   hull create                                hull __monitor (own session)
//     | state.json: creating, lock held           |
//     |--- spawn (fd 3 = sync socket) ----------->|
//     |                                           | (init only) join the container's
//     |                                           |   network namespace: a new one
//     |                                           |   (unshare) or the spec's path
//     |<------------------------- namespaces -----|
//     | hooks: prestart, createRuntime, with      |
//     |   pid = the monitor (docker's setkey hook |
//     |   configures its namespace)               |
//     |--- boot --------------------------------->|
//     |                                           | scan the namespace, wire taps;
//     |                                           | boot VM (hull-vsock, virtiofsd, QEMU,
//     |                                           |   agent), guest interfaces and routes,
//     |                                           |   share rootfs and mounts,
//     |                                           |   CreateContainer (or ExecProcess),
//     |                                           |   stdio relay running
//     |<-------------------- ready {sandbox} -----|     (or at any point: error {code, msg};
//     | state.json: created, pid = monitor         |      it exits 1 after tearing down)
//     | hooks: createContainer                    |
//     | --pid-file (last, atomically)             |
//     |--- commit ------------------------------->|
//     | exit 0                                    | relay until the process ends
//     |                                           | stop the VM, unwire, exit with its status
//
// An exec's monitor skips namespaces/boot: it sends ready (or error) first.
// Anything but `commit` (a hook failed, or `hull create` died: EOF) makes the
// monitor kill the container, stop the VM and exit: no VM outlives a create
// that did not succeed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::container {

enum class SyncType { Namespaces, Boot, Ready, Error, Commit };

struct SyncMessage {
  SyncType type = SyncType::Error;
  nlohmann::json body = nlohmann::json::object();  // type-specific fields
  Error error;                                     // for SyncType::Error
};

// The fd number the monitor finds its end of the sync socket at.
inline constexpr int kMonitorSyncFd = 3;
inline constexpr size_t kMaxSyncMessageBytes = 64 * 1024;

// Pure: one packet <-> one message. parse_sync names what was wrong.
std::string encode_sync(const SyncMessage& m);
Result<SyncMessage> parse_sync(std::string_view packet);

Status send_sync(int fd, const SyncMessage& m);
// Waits up to `timeout` for one message; Errc::NotRunning on EOF (the peer
// died), Errc::Timeout when nothing came.
Result<SyncMessage> recv_sync(int fd, std::chrono::milliseconds timeout);

// A SOCK_SEQPACKET socketpair, both ends O_CLOEXEC.
Result<std::pair<UniqueFd, UniqueFd>> sync_pair();

}  // namespace hull::container
