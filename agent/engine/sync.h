// The handshake between the engine (in the agent, multi-threaded) and the
// container's init (a re-executed copy of the same binary, single-threaded).
//
// Transport: one AF_UNIX SOCK_STREAM socketpair; the init's end is fd 3
// (kSyncFd). Each message is a 4-byte type, a 4-byte payload length (host
// order; both ends are the same binary) and the payload. Payloads are capped at
// kMaxSyncPayload.
//
//   engine (agent)                 bootstrap                  container init
//   ──────────────                 ─────────                  ──────────────
//   spawn /proc/self/exe __hull_init ──▶ (exec'd, fd 3 = sync)
//   [cgroup: write bootstrap pid to cgroup.procs]
//   Config {InitRequest JSON} ───────▶ open ns paths, setns(joined)
//                                      unshare(CLONE_NEWUSER)?
//   ◀─────────────────── UsernsCreated (only when a user ns is created)
//   write uid_map/gid_map
//   UsernsMapped ────────────────────▶ unshare(other namespaces)
//                                      clone(CLONE_PARENT) ─────▶ (waits on a pipe)
//   ◀──────────────────── ChildPid {pid in the agent's pid ns}
//   pidfd_open(pid)
//   PidAck ──────────────────────────▶ release the child, exit 0
//                                                               mounts, pivot_root, devices,
//                                                               (terminal: a pty on the
//                                                               container's /dev/pts/ptmx),
//                                                               hostname, rlimits, user, caps
//   ◀──────────────────────────── Console {SCM_RIGHTS: the pty master} (terminal only)
//   ◀─────────────────────────────────────────────────────────── Ready
//   ... Container::create returns; nothing of the user's runs yet ...
//   Start ──────────────────────────────────────────────────────▶ seccomp, execve(args)
//   ◀───────────────────────────────────────────── EOF (the socket is O_CLOEXEC: exec done)
//
// Any side may instead send Error {JSON: code, errno, msg: common/error_json.h} and exit; the
// engine returns that error from create/start/exec. An exec into a running
// container follows the same diagram without the user namespace step; the
// namespaces to join arrive as fds (InitRequest.join) instead of spec paths.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::engine {

inline constexpr int kSyncFd = 3;
inline constexpr uint32_t kMaxSyncPayload = 16u << 20;

enum class SyncMsg : uint32_t {
  Config = 1,         // engine -> bootstrap: InitRequest JSON
  UsernsCreated = 2,  // bootstrap -> engine: please write my uid_map / gid_map
  UsernsMapped = 3,   // engine -> bootstrap
  ChildPid = 4,       // bootstrap -> engine: decimal pid of the container process
  PidAck = 5,         // engine -> bootstrap: pidfd held, release the child
  Ready = 6,          // init -> engine: set up, blocked until Start
  Start = 7,          // engine -> init: exec the user's process now
  Error = 8,          // any -> engine: {"code":..,"errno":..,"msg":..}; sender exits
  Console = 9,        // init -> engine: the pty master as SCM_RIGHTS, no payload
};

std::string_view sync_msg_name(SyncMsg m);

struct SyncMessage {
  SyncMsg type = SyncMsg::Error;
  std::string payload;
  UniqueFd fd;  // passed with the message (SCM_RIGHTS), if any
};

Status send_sync(int fd, SyncMsg type, std::string_view payload = {});

// A message carrying `pass` (SCM_RIGHTS) and no payload.
Status send_sync_fd(int fd, SyncMsg type, int pass);

// Reads one message. A clean EOF before any byte is Errc::NotRunning ("peer
// closed"), with *closed_at_start set when given. `deadline` bounds the wait
// (poll); negative means no limit.
Result<SyncMessage> recv_sync(int fd, std::chrono::milliseconds deadline,
                              bool* closed_at_start = nullptr);

// Waits for EOF on fd (the init exec'd); an Error message is returned as error,
// anything else is a protocol error.
Status wait_sync_eof(int fd, std::chrono::milliseconds deadline);

// Error <-> payload JSON.
std::string encode_error(const Error& e);
Error decode_error(std::string_view payload);

// Receives a message that must be `want`; an Error message becomes the error.
Result<std::string> expect_sync(int fd, SyncMsg want, std::chrono::milliseconds deadline);

// Same for a message that must carry an fd (send_sync_fd); returns that fd.
Result<UniqueFd> expect_sync_fd(int fd, SyncMsg want, std::chrono::milliseconds deadline);

}  // namespace hull::engine
