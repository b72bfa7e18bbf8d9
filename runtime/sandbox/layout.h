// Where one sandbox lives on the host (docs/design.md "One sandbox on the host"):
//
//   <root>/sandboxes/<dir>/
//     qmp.sock  vhost-vsock.sock  vsock.sock  virtiofsd.sock  console.log
//     qemu.log  virtiofsd.log  hull-vsock.log      (each process's stdout+stderr)
//     shared/
//
// <dir> is the sandbox id, unless the longest socket path would not fit in
// sockaddr_un (108 bytes with the NUL, and hybrid vsock appends "_<port>" to
// vsock.sock): then <dir> is "h-" + 16 hex digits of a 64-bit FNV-1a hash of
// the id. The id is validated before any path is joined.
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

// Longest sandbox id accepted (same limit runc applies to container ids).
inline constexpr size_t kMaxSandboxIdBytes = 1024;
// sockaddr_un.sun_path holds 107 bytes plus the NUL.
inline constexpr size_t kMaxSocketPathBytes = 107;
// "_4294967295": what hybrid vsock may append to vsock.sock.
inline constexpr size_t kHybridSuffixBytes = 11;

struct SandboxPaths {
  std::string dir;
  std::string qmp_socket;
  std::string vhost_vsock_socket;
  std::string vsock_socket;
  std::string virtiofsd_socket;
  std::string console_log;
  std::string qemu_log;
  std::string virtiofsd_log;
  std::string vsock_log;
  std::string shared_dir;
  bool hashed = false;  // <dir> is the hash of the id, not the id
};

// Ids: [A-Za-z0-9][A-Za-z0-9_.-]*, at most kMaxSandboxIdBytes (runc's rule).
Status validate_sandbox_id(std::string_view id);

uint64_t fnv1a64(std::string_view s);

// Pure: the paths for `id` under `root` (absolute, no trailing slash needed).
Result<SandboxPaths> sandbox_paths(const std::string& root, std::string_view id);

// Pure: the guest CID for a sandbox whose directory has inode `ino`.
uint32_t guest_cid_for(ino_t ino, std::string_view id);

}  // namespace hull::sandbox
