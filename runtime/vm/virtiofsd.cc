#include "runtime/vm/virtiofsd.h"

namespace hull::vm {

namespace {

const char* cache_option(config::VirtiofsCache c) {
  switch (c) {
    case config::VirtiofsCache::Always:
      return "always";
    case config::VirtiofsCache::Never:
      return "none";
    case config::VirtiofsCache::Auto:
      break;
  }
  return "auto";
}

}  // namespace

bool virtiofsd_path_ok(const std::string& path) {
  return !path.empty() && path.find(',') == std::string::npos;
}

std::vector<std::string> virtiofsd_argv(const VirtiofsdSpec& spec) {
  return {
      spec.path,
      "--fd=" + std::to_string(spec.socket_fd),
      "-o",
      "source=" + spec.source_dir,
      "-o",
      std::string("cache=") + cache_option(spec.cache),
      "-o",
      std::string("sandbox=") + (spec.sandbox == VirtiofsdSandbox::Chroot ? "chroot" : "namespace"),
      // Container rootfs and volumes are bind mounts below shared/: give each
      // its own st_dev in the guest.
      "-o",
      "announce_submounts",
      // A guest cannot make device nodes (nor file capabilities) on the host.
      "-o",
      "modcaps=-mknod:-setfcap",
      "--thread-pool-size=" + std::to_string(spec.thread_pool_size),
  };
}

}  // namespace hull::vm
