#include "runtime/sandbox/layout.h"

#include <algorithm>
#include <cstdio>

namespace hull::sandbox {

namespace {

bool id_char_ok(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '_' || c == '.' || c == '-');
}

SandboxPaths paths_in(const std::string& dir) {
  SandboxPaths p;
  p.dir = dir;
  p.qmp_socket = dir + "/qmp.sock";
  p.vhost_vsock_socket = dir + "/vhost-vsock.sock";
  p.vsock_socket = dir + "/vsock.sock";
  p.virtiofsd_socket = dir + "/virtiofsd.sock";
  p.console_log = dir + "/console.log";
  p.qemu_log = dir + "/qemu.log";
  p.virtiofsd_log = dir + "/virtiofsd.log";
  p.vsock_log = dir + "/hull-vsock.log";
  p.shared_dir = dir + "/shared";
  return p;
}

// The longest socket path of a layout, counting the hybrid-vsock suffix.
size_t longest_socket(const SandboxPaths& p) {
  return std::max({p.qmp_socket.size(), p.vhost_vsock_socket.size(),
                   p.vsock_socket.size() + kHybridSuffixBytes, p.virtiofsd_socket.size()});
}

}  // namespace

Status validate_sandbox_id(std::string_view id) {
  if (id.empty()) return fail(Errc::Invalid, "sandbox id is empty");
  if (id.size() > kMaxSandboxIdBytes) {
    return fail(Errc::Invalid, "sandbox id longer than " + std::to_string(kMaxSandboxIdBytes));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!id_char_ok(id[i], i == 0)) {
      return fail(Errc::Invalid, "sandbox id \"" + std::string(id) +
                                     "\": only [A-Za-z0-9_.-] allowed, starting alphanumeric");
    }
  }
  return {};
}

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Result<SandboxPaths> sandbox_paths(const std::string& root, std::string_view id) {
  HULL_TRY(validate_sandbox_id(id));
  if (root.empty() || root.front() != '/') {
    return fail(Errc::Invalid, "runtime root must be an absolute path: \"" + root + "\"");
  }
  std::string base = root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  base += "/sandboxes/";
  SandboxPaths p = paths_in(base + std::string(id));
  if (longest_socket(p) <= kMaxSocketPathBytes) return p;
  char hex[20];
  std::snprintf(hex, sizeof hex, "h-%016llx", static_cast<unsigned long long>(fnv1a64(id)));
  p = paths_in(base + hex);
  p.hashed = true;
  if (longest_socket(p) > kMaxSocketPathBytes) {
    return fail(Errc::Invalid, "runtime root \"" + root + "\" is too long: socket paths below it " +
                                   "exceed " + std::to_string(kMaxSocketPathBytes) + " bytes");
  }
  return p;
}

uint32_t guest_cid_for(ino_t ino, std::string_view id) {
  if (ino >= 3 && ino <= 0xfffffffeull) return static_cast<uint32_t>(ino);
  return 3 + static_cast<uint32_t>(fnv1a64(id) % (1ull << 31));
}

}  // namespace hull::sandbox
