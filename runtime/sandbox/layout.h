// Where one sandbox lives on the host (docs/design.md "One sandbox on the host"):
//
//   <root>/sandboxes/<dir>/
//     qmp.sock  vhost-vsock.sock  vsock/sock  virtiofsd.sock  console.log
//     qemu.log  virtiofsd.log  hull-vsock.log      (each process's stdout+stderr)
//     shared/  jail/   (jail/: the empty mount point of the jailed processes' roots)
//
// <dir> is the sandbox id (common/container_id.h: validated before any path
// is joined), unless the id cannot name it: it holds a ',' (virtiofsd's and
// QEMU's option syntax split there), or the longest socket path would not fit
// in sockaddr_un (108 bytes with the NUL, and hybrid vsock appends "_<port>"
// to vsock/sock). Then <dir> is "h-" + 16 hex digits of a 64-bit FNV-1a hash
// of the id.
//
// The sockets live in <dir> unless even the hashed name leaves them too long
// (a deep --root): then they go to a directory of their own whose length does
// not depend on the root,
//
//   /run/hull-sock/<16 hex digits of the hash of root and id>/   (0700)
//
// made and removed with the sandbox (Sandbox::start/stop; `delete` of a
// container whose monitor died removes it too).
//
// Guest CID: the inode number of the sandbox directory when it lies in
// [3, 0xfffffffe] (unique among existing sandbox directories of one file
// system), otherwise 3 + the id hash modulo 2^31. With vhost-user every
// backend is private to its VM, so the CID only has to be valid; being
// unique keeps logs unambiguous.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace hull::sandbox {

// Where the sockets of a sandbox under a too deep root go (see above).
inline constexpr std::string_view kShortSocketBase = "/run/hull-sock";
// sockaddr_un.sun_path holds 107 bytes plus the NUL.
inline constexpr size_t kMaxSocketPathBytes = 107;
// "_4294967295": what hybrid vsock may append to vsock/sock. vsock/
// (0710, group: the jail user's) is the one directory a jailed hull-vsock
// sees and connects in (runtime/jail/plans.h).
inline constexpr size_t kHybridSuffixBytes = 11;

struct SandboxPaths {
  std::string dir;
  std::string socket_dir;  // dir, or kShortSocketBase/<hash> for a deep root
  std::string qmp_socket;
  std::string vhost_vsock_socket;
  std::string vsock_dir;  // what hull-vsock serves: sock and sock_<port>
  std::string vsock_socket;
  std::string virtiofsd_socket;
  std::string console_log;
  std::string qemu_log;
  std::string virtiofsd_log;
  std::string vsock_log;
  std::string shared_dir;
  std::string jail_dir;  // empty; QEMU and hull-vsock each mount their root on it (runtime/jail)
  bool hashed = false;   // <dir> is the hash of the id, not the id
  bool short_sockets() const { return socket_dir != dir; }
};

uint64_t fnv1a64(std::string_view s);

// Pure: the paths for `id` under `root` (absolute, no trailing slash needed).
// Errc::Invalid for an id common/container_id.h refuses or a relative root.
Result<SandboxPaths> sandbox_paths(const std::string& root, std::string_view id);

// Pure: the guest CID for a sandbox whose directory has inode `ino`.
uint32_t guest_cid_for(ino_t ino, std::string_view id);

}  // namespace hull::sandbox
