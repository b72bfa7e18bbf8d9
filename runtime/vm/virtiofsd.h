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
  uint32_t thread_pool_size = 4;  // worker threads; 0: requests run on the queue thread
};

std::vector<std::string> virtiofsd_argv(const VirtiofsdSpec& spec);

// virtiofsd splits -o lists at commas: a path holding one cannot be exported.
bool virtiofsd_path_ok(const std::string& path);

}  // namespace hull::vm
