// The OCI runtime-spec config.json model (runtime-spec 1.0.2 plus the 1.1
// additions), Linux only.
//
// Conventions:
//  * Member names are the JSON keys in snake_case (ociVersion -> oci_version).
//  * Every field the spec marks OPTIONAL is a std::optional, so a key that is
//    absent in the input stays absent on output and an empty array or `false`
//    that was written stays written. REQUIRED fields are plain values.
//  * Every object keeps the keys the model does not know in `extra` (a JSON
//    object); to_json() writes them back, so parse -> serialize keeps them.
//    A key in `extra` never overrides a modelled field, and an `extra` that
//    is not an object is ignored on output.
//  * JSON null means absent (as Go's encoding/json reads it), so a null in a
//    modelled field does not survive a round trip; nulls in unknown keys do.
//  * Parts of the spec that hull passes through without interpreting
//    (process.scheduler, process.ioPriority, linux.intelRdt, ...) are kept as
//    raw JSON values.
//
// Parsing (parse_spec) checks JSON syntax, size, nesting depth and the type and
// range of every modelled field; validate() checks the semantic rules runc
// checks. Errors are Errc::Invalid with messages of the form
//   "config.json: mounts[2].destination: must be a string"
// No exception leaves this module.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

// Spec::linux is named after the JSON key; GNU dialects predefine `linux` as 1.
#if defined(linux)
#error "hull builds with -std=c++23 (CMAKE_CXX_EXTENSIONS OFF); gnu++ modes define `linux`"
#endif

namespace hull::oci {

using Json = nlohmann::json;
using StringMap = std::map<std::string, std::string>;

// The ociVersion hull writes (default_spec) and reports (`hull features`).
inline constexpr std::string_view kOciVersion = "1.1.0";

// hull's own key in a bind mount of the spec the guest gets (never the
// caller's: the host replaces it): the mount points below the bind's source
// on the host, relative to it, parents first ("sub", "sub/deeper"). In the
// guest each is a virtio-fs submount that the kernel mounts on first access
// with the flags of the mount it is reached through; the agent reaches them
// before it applies an rbind's own flags, so those stay on the bind itself
// as runc's do ("ro" on an rbind is not recursive, "rro" is).
inline constexpr std::string_view kSubmountsKey = "io.hull.submounts";

// ---- process ---------------------------------------------------------------

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
  Json extra = Json::object();
  bool operator==(const ConsoleSize&) const = default;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::optional<std::vector<uint32_t>> additional_gids;  // "additionalGids"
  std::optional<std::string> username;
  Json extra = Json::object();
  bool operator==(const User&) const = default;
};

struct Capabilities {
  std::optional<std::vector<std::string>> bounding;
  std::optional<std::vector<std::string>> effective;
  std::optional<std::vector<std::string>> inheritable;
  std::optional<std::vector<std::string>> permitted;
  std::optional<std::vector<std::string>> ambient;
  Json extra = Json::object();
  bool operator==(const Capabilities&) const = default;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;
  Json extra = Json::object();
  bool operator==(const Rlimit&) const = default;
};

struct Process {
  std::optional<bool> terminal;
  std::optional<ConsoleSize> console_size;  // "consoleSize"
  User user;                                // REQUIRED by the spec; zero if absent
  std::optional<std::vector<std::string>> args;
  std::optional<std::string> command_line;  // "commandLine" (Windows; kept as data)
  std::optional<std::vector<std::string>> env;
  std::string cwd;  // REQUIRED; validate() requires it absolute
  std::optional<Capabilities> capabilities;
  std::optional<std::vector<Rlimit>> rlimits;
  std::optional<bool> no_new_privileges;        // "noNewPrivileges"
  std::optional<std::string> apparmor_profile;  // "apparmorProfile"
  std::optional<int32_t> oom_score_adj;         // "oomScoreAdj"
  std::optional<std::string> selinux_label;     // "selinuxLabel"
  std::optional<Json> scheduler;                // object, kept as data
  std::optional<Json> io_priority;              // "ioPriority", object, kept as data
  std::optional<Json> exec_cpu_affinity;        // "execCPUAffinity", object, kept as data
  Json extra = Json::object();
  bool operator==(const Process&) const = default;
};

// ---- root, mounts, hooks -----------------------------------------------------

struct Root {
  std::string path;  // REQUIRED
  std::optional<bool> readonly;
  Json extra = Json::object();
  bool operator==(const Root&) const = default;
};

struct IdMapping {
  uint32_t container_id = 0;  // "containerID"
  uint32_t host_id = 0;       // "hostID"
  uint32_t size = 0;
  Json extra = Json::object();
  bool operator==(const IdMapping&) const = default;
};

struct Mount {
  std::string destination;  // REQUIRED
  std::optional<std::string> type;
  std::optional<std::string> source;
  std::optional<std::vector<std::string>> options;
  std::optional<std::vector<IdMapping>> uid_mappings;  // "uidMappings" (1.1)
  std::optional<std::vector<IdMapping>> gid_mappings;  // "gidMappings" (1.1)
  Json extra = Json::object();
  bool operator==(const Mount&) const = default;
};

struct Hook {
  std::string path;  // REQUIRED
  std::optional<std::vector<std::string>> args;
  std::optional<std::vector<std::string>> env;
  std::optional<int64_t> timeout;  // seconds; validate() requires > 0
  Json extra = Json::object();
  bool operator==(const Hook&) const = default;
};

struct Hooks {
  std::optional<std::vector<Hook>> prestart;          // deprecated, still run by runc
  std::optional<std::vector<Hook>> create_runtime;    // "createRuntime"
  std::optional<std::vector<Hook>> create_container;  // "createContainer"
  std::optional<std::vector<Hook>> start_container;   // "startContainer"
  std::optional<std::vector<Hook>> poststart;
  std::optional<std::vector<Hook>> poststop;
  Json extra = Json::object();
  bool operator==(const Hooks&) const = default;
};

// ---- linux -------------------------------------------------------------------

struct Namespace {
  std::string type;  // pid network mount ipc uts user cgroup time
  std::optional<std::string> path;
  Json extra = Json::object();
  bool operator==(const Namespace&) const = default;
};

struct Device {
  std::string type;  // c b u p
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;  // "fileMode"
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  Json extra = Json::object();
  bool operator==(const Device&) const = default;
};

struct DeviceCgroup {
  bool allow = false;  // REQUIRED
  std::optional<std::string> type;
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::optional<std::string> access;
  Json extra = Json::object();
  bool operator==(const DeviceCgroup&) const = default;
};

struct Memory {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernel_tcp;  // "kernelTCP"
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;   // "disableOOMKiller"
  std::optional<bool> use_hierarchy;        // "useHierarchy"
  std::optional<bool> check_before_update;  // "checkBeforeUpdate"
  Json extra = Json::object();
  bool operator==(const Memory&) const = default;
};

struct Cpu {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;  // "realtimeRuntime"
  std::optional<uint64_t> realtime_period;  // "realtimePeriod"
  std::optional<std::string> cpus;
  std::optional<std::string> mems;
  std::optional<int64_t> idle;
  Json extra = Json::object();
  bool operator==(const Cpu&) const = default;
};

struct Pids {
  std::optional<int64_t> limit;
  Json extra = Json::object();
  bool operator==(const Pids&) const = default;
};

struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;  // "leafWeight"
  Json extra = Json::object();
  bool operator==(const WeightDevice&) const = default;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
  Json extra = Json::object();
  bool operator==(const ThrottleDevice&) const = default;
};

struct BlockIo {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;                                   // "leafWeight"
  std::optional<std::vector<WeightDevice>> weight_device;                // "weightDevice"
  std::optional<std::vector<ThrottleDevice>> throttle_read_bps_device;   // "throttleReadBpsDevice"
  std::optional<std::vector<ThrottleDevice>> throttle_write_bps_device;  // "throttleWriteBpsDevice"
  std::optional<std::vector<ThrottleDevice>> throttle_read_iops_device;  // "throttleReadIOPSDevice"
  std::optional<std::vector<ThrottleDevice>>
      throttle_write_iops_device;  // "throttleWriteIOPSDevice"
  Json extra = Json::object();
  bool operator==(const BlockIo&) const = default;
};

struct HugepageLimit {
  std::string page_size;  // "pageSize", e.g. "2MB"
  uint64_t limit = 0;
  Json extra = Json::object();
  bool operator==(const HugepageLimit&) const = default;
};

struct InterfacePriority {
  std::string name;
  uint32_t priority = 0;
  Json extra = Json::object();
  bool operator==(const InterfacePriority&) const = default;
};

struct Network {
  std::optional<uint32_t> class_id;  // "classID"
  std::optional<std::vector<InterfacePriority>> priorities;
  Json extra = Json::object();
  bool operator==(const Network&) const = default;
};

struct Rdma {
  std::optional<uint32_t> hca_handles;  // "hcaHandles"
  std::optional<uint32_t> hca_objects;  // "hcaObjects"
  Json extra = Json::object();
  bool operator==(const Rdma&) const = default;
};

struct Resources {
  std::optional<std::vector<DeviceCgroup>> devices;
  std::optional<Memory> memory;
  std::optional<Cpu> cpu;
  std::optional<Pids> pids;
  std::optional<BlockIo> block_io;                            // "blockIO"
  std::optional<std::vector<HugepageLimit>> hugepage_limits;  // "hugepageLimits"
  std::optional<Network> network;
  std::optional<std::map<std::string, Rdma>> rdma;
  std::optional<StringMap> unified;  // cgroup v2 file -> value
  Json extra = Json::object();
  bool operator==(const Resources&) const = default;
};

struct SeccompArg {
  uint32_t index = 0;  // validate() requires < 6
  uint64_t value = 0;
  std::optional<uint64_t> value_two;  // "valueTwo"
  std::string op;                     // SCMP_CMP_*
  Json extra = Json::object();
  bool operator==(const SeccompArg&) const = default;
};

struct Syscall {
  std::vector<std::string> names;
  std::string action;                 // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;  // "errnoRet"
  std::optional<std::vector<SeccompArg>> args;
  Json extra = Json::object();
  bool operator==(const Syscall&) const = default;
};

struct Seccomp {
  std::string default_action;                             // "defaultAction", SCMP_ACT_*
  std::optional<uint32_t> default_errno_ret;              // "defaultErrnoRet"
  std::optional<std::vector<std::string>> architectures;  // SCMP_ARCH_*
  std::optional<std::vector<std::string>> flags;          // SECCOMP_FILTER_FLAG_*
  std::optional<std::string> listener_path;               // "listenerPath"
  std::optional<std::string> listener_metadata;           // "listenerMetadata"
  std::optional<std::vector<Syscall>> syscalls;
  Json extra = Json::object();
  bool operator==(const Seccomp&) const = default;
};

struct Personality {
  std::string domain;  // LINUX or LINUX32
  std::optional<std::vector<std::string>> flags;
  Json extra = Json::object();
  bool operator==(const Personality&) const = default;
};

struct Linux {
  std::optional<std::vector<Namespace>> namespaces;
  std::optional<std::vector<IdMapping>> uid_mappings;  // "uidMappings"
  std::optional<std::vector<IdMapping>> gid_mappings;  // "gidMappings"
  std::optional<std::vector<Device>> devices;
  std::optional<std::string> cgroups_path;  // "cgroupsPath"
  std::optional<Resources> resources;
  std::optional<StringMap> sysctl;
  std::optional<Seccomp> seccomp;
  std::optional<std::string> rootfs_propagation;           // "rootfsPropagation"
  std::optional<std::vector<std::string>> masked_paths;    // "maskedPaths"
  std::optional<std::vector<std::string>> readonly_paths;  // "readonlyPaths"
  std::optional<std::string> mount_label;                  // "mountLabel"
  std::optional<Personality> personality;
  std::optional<Json> intel_rdt;     // "intelRdt", object, kept as data
  std::optional<Json> time_offsets;  // "timeOffsets", object, kept as data
  Json extra = Json::object();
  bool operator==(const Linux&) const = default;
};

// ---- the whole config.json ---------------------------------------------------

struct Spec {
  std::string oci_version;  // "ociVersion", REQUIRED
  std::optional<Process> process;
  std::optional<Root> root;
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  std::optional<std::vector<Mount>> mounts;
  std::optional<Hooks> hooks;
  std::optional<StringMap> annotations;
  std::optional<Linux> linux;
  Json extra = Json::object();
  bool operator==(const Spec&) const = default;
};

// Parses config.json text: syntax, size (kMaxConfigBytes), depth
// (kMaxJsonDepth) and the type/range of every modelled field. Does not apply
// the semantic rules of validate(). `origin` prefixes every error message.
Result<Spec> parse_spec(std::string_view text, std::string_view origin = "config.json");

// The same checks as parse_spec on an already-parsed JSON value (the caller
// bounds its size and depth).
Result<Spec> spec_from_json(const Json& j, std::string_view origin = "config.json");

// The spec as a JSON object, with every `extra` key written back.
Json to_json(const Spec& spec);

// to_json() pretty-printed with tab indentation, like `runc spec` writes it.
// Invalid UTF-8 in strings is replaced, never thrown.
std::string serialize_spec(const Spec& spec);

// The semantic rules (runc's validation as reference).
// Returns the first broken rule as Errc::Invalid: "<origin>: <path>: <rule>".
Status validate(const Spec& spec, std::string_view origin = "config.json");

// Reads (at most kMaxConfigBytes), parses and validates a config.json file.
// Errors name the file as origin.
Result<Spec> load_spec_file(const std::string& path);

// Whether default_spec adds a cgroup namespace. runc adds one only when the
// host runs cgroup v2 unified, so `hull spec` asks the host (cmd_spec.cc);
// hull's guest runs cgroup v2 either way, and works without one too.
enum class CgroupNamespace { Add, Omit };

// What `runc spec` writes, with ociVersion kOciVersion and hostname "hull".
Spec default_spec(CgroupNamespace cgroup_ns = CgroupNamespace::Add);

// What `runc spec --rootless` writes, for the calling process's uid and gid.
Spec default_rootless_spec(CgroupNamespace cgroup_ns = CgroupNamespace::Add);

// runc's specconv.ToRootless: adds a user namespace mapping uid/gid to 0,
// drops the network namespace, binds /sys, drops gid= options from mounts and
// the resources section.
void to_rootless(Spec& spec, uint32_t uid, uint32_t gid);

// Linux numbers for OCI names; nullopt when the name is not known.
std::optional<int> capability_number(std::string_view name);  // "CAP_KILL" -> 5
// Every capability name Linux knows, indexed by number (CAP_CHOWN = 0 ...).
std::span<const std::string_view> capability_names();
std::optional<int> rlimit_number(std::string_view name);  // "RLIMIT_NOFILE" -> 7

}  // namespace hull::oci
