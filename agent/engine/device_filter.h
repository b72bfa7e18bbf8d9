// Device access control for a cgroup v2 container: linux.resources.devices ->
// a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the container's cgroup.
//
// cgroup v2 has no devices.allow/devices.deny files; the kernel asks every
// program attached to the cgroup (and its ancestors) on each open and mknod of
// a device node. The rules keep runc's meaning, which is cgroup v1's:
//
//   1. The spec's rules in order, then runc's default rules (mknod of any
//      device; read/write/mknod of /dev/null, zero, full, random, urandom,
//      tty, ptmx, /dev/net/tun and /dev/pts/*), minus the defaults whose path
//      linux.devices lists (the spec's entry decides then).
//   2. The list is reduced as cgroup v1 does it (reduce_device_rules): a rule
//      of type "a" (or no type) sets the default and forgets every exception;
//      a rule against the default adds its access to the exception for
//      exactly its type/major/minor; a rule with the default takes access
//      away from that exception. Taking access out of a wildcard exception
//      that covers the rule (c 1:* allowed, then c 1:3 denied) is refused, as
//      runc refuses it: v1 would silently keep allowing it.
//   3. The program (device_program) checks the exceptions, then returns the
//      default. An allow exception matches a request whose every access bit
//      it grants; a deny exception matches a request asking for any access it
//      denies (an O_RDWR open against a "w" deny is denied).
//
// No rules at all is the defaults alone (deny everything else), as with runc.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/oci/spec.h"
#include "common/unique_fd.h"

namespace hull::engine {

// BPF_DEVCG_ACC_* bits.
inline constexpr uint8_t kDevAccMknod = 1;
inline constexpr uint8_t kDevAccRead = 2;
inline constexpr uint8_t kDevAccWrite = 4;
inline constexpr uint8_t kDevAccAll = kDevAccMknod | kDevAccRead | kDevAccWrite;

struct DeviceRule {
  char type = 'a';     // 'a' (every device), 'c', 'b'
  int64_t major = -1;  // -1: any
  int64_t minor = -1;  // -1: any
  uint8_t access = kDevAccAll;
  bool allow = false;
  std::string field;  // "linux.resources.devices[2]", or the default's name, for errors
  bool operator==(const DeviceRule&) const = default;
};

// runc 1.1's default device rules, appended after the spec's. Those with a
// path are also the nodes every container's /dev gets (devices.cc).
struct DefaultDevice {
  const char* path;  // nullptr: a rule without a node of its own
  char type;
  int64_t major;
  int64_t minor;
  uint8_t access;
};
std::span<const DefaultDevice> default_devices();

// The effective rule list of step 1. Errors name the field: a type other than
// a/b/c, a missing or empty access (runc refuses it too), letters other than
// r/w/m, a major or minor below -1 or above 2^32-1.
Result<std::vector<DeviceRule>> device_rules(
    const std::optional<std::vector<oci::DeviceCgroup>>& rules,
    const std::optional<std::vector<oci::Device>>& devices);

struct DevicePolicy {
  bool default_allow = false;
  std::vector<DeviceRule> exceptions;  // each with allow == !default_allow, type c or b
};

// Step 2.
Result<DevicePolicy> reduce_device_rules(const std::vector<DeviceRule>& rules);

// Step 3: eBPF instructions, run with r1 = struct bpf_cgroup_dev_ctx *.
std::vector<bpf_insn> device_program(const DevicePolicy& policy);

// A loaded program attached to one cgroup (BPF_F_ALLOW_MULTI, so it adds to
// whatever the cgroup and its parents already have).
class DeviceFilter {
 public:
  DeviceFilter() = default;
  // Loads `insns` and attaches them to the cgroup directory `cgroup_dir`.
  static Result<DeviceFilter> attach(const std::string& cgroup_dir,
                                     const std::vector<bpf_insn>& insns);
  // Detaches the program from the cgroup it was attached to (a cgroup that is
  // gone has detached it already); closes it.
  Status detach();
  bool attached() const { return prog_.valid(); }

 private:
  UniqueFd prog_;
  UniqueFd cgroup_;
};

}  // namespace hull::engine
