#include "runtime/sandbox/layout.h"

#include <algorithm>
#include <cstdio>

#include "common/container_id.h"

namespace hull::sandbox {

namespace {

std::string hex16(uint64_t h) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

SandboxPaths paths_in(const std::string& dir, const std::string& socket_dir) {
  SandboxPaths p;
  p.dir = dir;
  p.socket_dir = socket_dir;
  p.qmp_socket = socket_dir + "/qmp.sock";
  p.vhost_vsock_socket = socket_dir + "/vhost-vsock.sock";
  p.vsock_dir = socket_dir + "/vsock";
  // "vsock/sock" is as long as the "vsock.sock" it replaced: the same ids fit.
  p.vsock_socket = p.vsock_dir + "/sock";
  p.virtiofsd_socket = socket_dir + "/virtiofsd.sock";
  p.console_log = dir + "/console.log";
  p.qemu_log = dir + "/qemu.log";
  p.virtiofsd_log = dir + "/virtiofsd.log";
  p.vsock_log = dir + "/hull-vsock.log";
  p.shared_dir = dir + "/shared";
  p.jail_dir = dir + "/jail";
  return p;
}

// The longest socket path of a layout, counting the hybrid-vsock suffix.
size_t longest_socket(const SandboxPaths& p) {
  return std::max({p.qmp_socket.size(), p.vhost_vsock_socket.size(),
                   p.vsock_socket.size() + kHybridSuffixBytes, p.virtiofsd_socket.size()});
}

}  // namespace

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Result<SandboxPaths> sandbox_paths(const std::string& root, std::string_view id) {
  HULL_TRY(validate_container_id(id));
  if (root.empty() || root.front() != '/') {
    return fail(Errc::Invalid, "runtime root must be an absolute path: \"" + root + "\"");
  }
  std::string base = root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::string clean_root = base;
  base += "/sandboxes/";
  std::string dir = base + std::string(id);
  SandboxPaths p = paths_in(dir, dir);
  if (id.find(',') == std::string_view::npos && longest_socket(p) <= kMaxSocketPathBytes) return p;
  dir = base + "h-" + hex16(fnv1a64(id));
  p = paths_in(dir, dir);
  p.hashed = true;
  if (longest_socket(p) <= kMaxSocketPathBytes) return p;
  // A root this deep: the sockets go where their length is fixed. The hash
  // covers the root, so two roots running the same id do not meet there.
  std::string key = clean_root + "/" + std::string(id);
  p = paths_in(dir, std::string(kShortSocketBase) + "/" + hex16(fnv1a64(key)));
  p.hashed = true;
  return p;
}

uint32_t guest_cid_for(ino_t ino, std::string_view id) {
  if (ino >= 3 && ino <= 0xfffffffeull) return static_cast<uint32_t>(ino);
  return 3 + static_cast<uint32_t>(fnv1a64(id) % (1ull << 31));
}

}  // namespace hull::sandbox
