// A container's cgroup v2 directory: created below a configurable root
// (default /sys/fs/cgroup; tests point it at a scratch directory), resources
// applied and updated, stats read, frozen/thawed, killed, removed. What to
// write and how to read it back are common/cgroup's rules (resources.h,
// stats.h), shared with the host cgroup.
//
// Files are opened without O_CREAT, as on cgroupfs: a controller that is not
// enabled is an error naming the file and the spec field.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/engine/device_filter.h"
#include "common/cgroup/stats.h"
#include "common/error.h"
#include "common/oci/spec.h"

namespace hull::engine {

inline constexpr std::string_view kDefaultCgroupRoot = "/sys/fs/cgroup";

struct CgroupStats {
  std::map<std::string, uint64_t>
      cpu;  // cpu.stat: usage_usec user_usec system_usec nr_throttled ...
  uint64_t memory_current = 0;
  std::optional<uint64_t> memory_max;  // nullopt: "max"
  uint64_t swap_current = 0;
  std::map<std::string, uint64_t> memory;         // memory.stat
  std::map<std::string, uint64_t> memory_events;  // low high max oom oom_kill ...
  uint64_t pids_current = 0;
  std::optional<uint64_t> pids_max;
  std::vector<cgroup::IoDeviceStat> io;
};

class Cgroup {
 public:
  // mkdir -p root + rel, enabling every controller the parent offers in each
  // ancestor's cgroup.subtree_control on the way (as runc's fs2 does).
  static Result<Cgroup> create(const std::string& root, const std::string& rel);
  // An existing cgroup (no mkdir).
  static Cgroup open(const std::string& root, const std::string& rel);

  const std::string& path() const { return path_; }

  Status apply(const oci::Resources& r);
  // Like apply; honours memory.checkBeforeUpdate (the new limit must not be
  // below memory.current), and a CPU quota or period given alone keeps the
  // other half of cpu.max (cgroup::keep_cpu_max_half), as runc's update does.
  Status update(const oci::Resources& r);

  // Replaces the cgroup's device program with one built from `rules`
  // (device_filter.h): the new one is attached before the old one goes, so
  // no access the old and new rules both deny is allowed in between. A
  // directory that is not on cgroup2 (the unit tests' scratch cgroups) gets
  // none.
  Status set_devices(const std::vector<DeviceRule>& rules);
  bool has_device_program() const { return devices_.attached(); }

  Status add_pid(pid_t pid);
  Result<std::vector<pid_t>> pids() const;

  // Missing files (controller not enabled) leave their fields at zero.
  Result<CgroupStats> stats() const;

  // cgroup.freeze, then waits until cgroup.events says "frozen 1" (or 0).
  Status freeze(std::chrono::milliseconds timeout);
  Status thaw(std::chrono::milliseconds timeout);

  // cgroup.kill when the kernel has it (5.14+), else `sig` to every pid in cgroup.procs.
  Status kill_all(int sig);
  Status signal_all(int sig);

  // Waits (up to timeout) for "populated 0" in cgroup.events.
  Status wait_empty(std::chrono::milliseconds timeout) const;

  // Detaches the device program, then rmdir of the cgroup and any child
  // cgroups, deepest first; EBUSY is retried until the timeout. ENOENT is
  // success.
  Status remove(std::chrono::milliseconds timeout);

 private:
  explicit Cgroup(std::string path) : path_(std::move(path)) {}
  Status write(const std::string& file, std::string_view value) const;
  Result<std::string> read(const std::string& file) const;
  Status set_frozen(bool frozen, std::chrono::milliseconds timeout);
  Result<std::map<std::string, uint64_t>> events() const;

  std::string path_;
  DeviceFilter devices_;
};

}  // namespace hull::engine
