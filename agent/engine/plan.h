// The OCI spec compiled into what the engine executes: names resolved to
// numbers, options to flags, every value checked. Pure functions, no I/O.
//
// The engine compiles the plan before it starts anything, so a bad value is an
// error returned to the caller that names the field and the reason:
//   process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"
// The container init compiles the same spec again on its side (the spec
// crosses the sync socket as JSON), which keeps both ends in step.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/engine/mount_options.h"
#include "common/error.h"
#include "common/oci/spec.h"

namespace hull::engine {

struct NamespacePlan {
  int flag = 0;                     // CLONE_NEW*
  std::string type;                 // "pid"
  std::optional<std::string> path;  // join this one instead of creating
};

struct CapSets {
  std::vector<int> bounding, effective, inheritable, permitted, ambient;
};

struct RlimitPlan {
  int resource = 0;
  uint64_t soft = 0;
  uint64_t hard = 0;
  std::string field;  // "process.rlimits[1]" for errors at apply time
};

// process.scheduler for sched_setattr(2).
struct SchedPlan {
  uint32_t policy = 0;
  uint64_t flags = 0;
  int32_t nice = 0;
  uint32_t priority = 0;
  uint64_t runtime = 0;
  uint64_t deadline = 0;
  uint64_t period = 0;
};

struct ProcessPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::optional<mode_t> umask;
  std::vector<RlimitPlan> rlimits;
  std::optional<int> oom_score_adj;
  std::optional<SchedPlan> scheduler;  // process.scheduler
  std::optional<int> io_priority;      // process.ioPriority as ioprio_set(2) takes it
  bool no_new_privileges = false;
  std::optional<CapSets> caps;  // nullopt: capabilities left as they are
  bool terminal = false;
  uint16_t console_rows = 0;
  uint16_t console_cols = 0;
};

struct MountPlan {
  std::string field;        // "mounts[3]"
  std::string destination;  // absolute, inside the rootfs
  std::string type;         // "" for bind mounts; "cgroup" becomes "cgroup2"
  std::string source;
  MountOptions opts;
  // Bind mounts: mount points below the source, relative, parents first
  // (oci::kSubmountsKey, from the host).
  std::vector<std::string> submounts;
};

struct DevicePlan {
  std::string field;  // "linux.devices[0]"
  std::string path;   // absolute, inside the rootfs
  mode_t mode = 0;    // S_IFCHR/S_IFBLK/S_IFIFO | permissions
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct IdMap {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct TimeOffset {
  std::string clock;  // "monotonic" or "boottime"
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct ContainerPlan {
  std::vector<NamespacePlan> namespaces;
  std::vector<IdMap> uid_mappings;
  std::vector<IdMap> gid_mappings;
  std::vector<TimeOffset> time_offsets;
  std::vector<MountPlan> mounts;
  unsigned long rootfs_propagation = 0;  // 0: absent (MS_SLAVE|MS_REC before pivot)
  bool root_readonly = false;
  std::vector<DevicePlan> devices;  // linux.devices only; defaults are added by devices.cc
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::map<std::string, std::string> sysctl;
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  std::optional<unsigned long> personality;  // PER_LINUX / PER_LINUX32
  ProcessPlan process;

  bool has_namespace(int flag) const;
  const NamespacePlan* find_namespace(int flag) const;
  // A user namespace is created (not joined).
  bool creates_userns() const;
};

// `field` prefixes every error ("process" for the container, "exec.process"
// or the like for exec).
Result<ProcessPlan> plan_process(const oci::Process& p, std::string_view field);

// The whole container. Requires spec.process.
Result<ContainerPlan> plan_container(const oci::Spec& spec);

// "pid" -> CLONE_NEWPID; 0 when unknown.
int namespace_flag(std::string_view type);
// CLONE_NEWPID -> "pid" (the name under /proc/<pid>/ns/).
std::string_view namespace_proc_name(int flag);

}  // namespace hull::engine
