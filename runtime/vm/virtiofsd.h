// virtiofsd (the C daemon shipped with QEMU 7.2) command line, as a pure
// function. hull runs one per sandbox on the sandbox's shared/ directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/config/config.h"

namespace hull::vm {

enum class VirtiofsdSandbox {
  Namespace,  // mount, pid and net namespaces + pivot_root into the shared dir
  Chroot,     // chroot(2) into the shared dir, no namespaces
};

struct VirtiofsdSpec {
  std::string path;  // the binary (config::virtiofsd_path)
  // The vhost-user socket is created and listened on by hull and passed as
  // this fd number (--fd): QEMU can connect the moment virtiofsd is spawned.
  int socket_fd = 3;
  std::string source_dir;  // the directory exported to the guest
  config::VirtiofsCache cache = config::VirtiofsCache::Auto;
  VirtiofsdSandbox sandbox = VirtiofsdSandbox::Namespace;
  // Worker threads; 0: requests run on the queue thread. 0 by default: Debian's
  // C virtiofsd (QEMU 7.2) kills itself with its own seccomp filter when GLib
  // starts a pool thread (sched_getaffinity, syscall 204, is not allowed; seen
  // as audit type=1326 comm="pool" under container I/O), and the guest's
  // virtio-fs then hangs.
  uint32_t thread_pool_size = 0;
};

std::vector<std::string> virtiofsd_argv(const VirtiofsdSpec& spec);

// virtiofsd splits -o lists at commas: a path holding one cannot be exported.
bool virtiofsd_path_ok(const std::string& path);

}  // namespace hull::vm
