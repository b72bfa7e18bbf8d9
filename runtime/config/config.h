// hull's host configuration: compiled defaults, overridden by a JSON file
// (/etc/hull/config.json, or the path in $HULL_CONFIG). Parsed and validated
// once into an immutable struct; unknown keys and wrong types are errors that
// name the key. Every key is documented in docs/configuration.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace hull::config {

inline constexpr const char* kDefaultConfigPath = "/etc/hull/config.json";
inline constexpr const char* kConfigEnv = "HULL_CONFIG";
inline constexpr const char* kDefaultShareDir = "/usr/local/share/hull";
inline constexpr size_t kMaxConfigFileBytes = 1 << 20;

enum class Accel { Auto, Kvm, Tcg };
enum class VirtiofsCache { Auto, Always, Never };

std::string_view accel_name(Accel a);
std::string_view cache_name(VirtiofsCache c);

struct Hypervisor {
  std::string path = "/usr/bin/qemu-system-x86_64";
  Accel accel = Accel::Auto;
  bool sandbox = true;  // QEMU -sandbox on,... (seccomp inside QEMU)
};

// The io.hull.* annotations that size a VM (docs/cli.md). A spec may use one
// only when vm.allowed_annotations names it.
inline constexpr const char* kAnnotationVcpus = "io.hull.vm.vcpus";
inline constexpr const char* kAnnotationMemoryMib = "io.hull.vm.memory-mib";

struct Vm {
  uint32_t vcpus = 1;
  uint32_t memory_mib = 256;
  // Caps on every VM, whatever sizes it; 0: the host's online CPUs / RAM.
  uint32_t max_vcpus = 0;
  uint32_t max_memory_mib = 0;
  // io.hull.* annotations a spec may set (default none, so a container's
  // author cannot size the VM beyond linux.resources).
  std::vector<std::string> allowed_annotations;
  std::string kernel = std::string(kDefaultShareDir) + "/vmlinux";
  std::string initrd = std::string(kDefaultShareDir) + "/initrd.img";
  std::string kernel_params;  // appended to hull's own kernel command line
  // The longest a sandbox start waits for the guest's agent while the VM still makes
  // progress (runtime/sandbox/boot_progress.h); a VM without progress fails sooner.
  uint32_t start_timeout_s = 300;
  // The guest console's log on the host is a ring of this many MiB in two files
  // (console.log and console.log.1, runtime/sandbox/log_ring.h).
  uint32_t console_log_mib = 1;
};

struct Virtiofsd {
  std::string path;  // empty: /usr/libexec/virtiofsd if present, else /usr/lib/qemu/virtiofsd
  VirtiofsCache cache = VirtiofsCache::Auto;
};

// Who QEMU and hull-vsock run as (runtime/jail, docs/security.md).
struct Jail {
  std::string user = "hull";  // a user name or a uid; scripts/setup.sh creates "hull"
  std::string group;          // a group name or a gid; empty: the user's primary group
};

struct Config {
  Hypervisor hypervisor;
  Jail jail;
  Vm vm;
  Virtiofsd virtiofsd;
  std::string log_level = "info";  // debug, info, warn, error
  std::string source;              // where this config came from ("defaults" or a path)
};

// Parses a config file's text over the compiled defaults. `origin` names the
// file in error messages: "/etc/hull/config.json: vm.vcpus: must be ...".
Result<Config> parse(std::string_view text, std::string_view origin);

// Loads $HULL_CONFIG, else /etc/hull/config.json; a missing default file means
// compiled defaults, a missing file named by $HULL_CONFIG is an error.
Result<Config> load();

// The virtiofsd binary to run: the configured path, or the distribution default.
std::string virtiofsd_path(const Config& c);

// The effective configuration as JSON text (for `hull env` and docs).
std::string to_json_text(const Config& c);

}  // namespace hull::config
