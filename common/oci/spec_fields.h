// Internal: the JSON key of every modelled field, written once and used by
// both the reader (spec_parse.cc) and the writer (spec_json.cc), so the two
// cannot drift apart.
//
// A visitor V provides:
//   v.field(key, member)            required when member is a plain value,
//                                   optional when it is a std::optional
//   v.field(key, member, type_rule) the same, with the rule text used when
//                                   the value has the wrong type
//   v.lenient(key, member)          REQUIRED by the spec but accepted when
//                                   absent (runc's Go zero value); always written
// Each describe() is called with a `T` that is the struct or its const form.
#pragma once

#include <concepts>
#include <optional>
#include <type_traits>

#include "common/oci/spec.h"

namespace hull::oci::detail {

// Whether T is a std::optional (the reader and the writer treat those as
// fields that may be absent).
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T, class U>
concept Is = std::same_as<std::remove_const_t<T>, U>;

template <class V, Is<ConsoleSize> T>
void describe(V& v, T& x) {
  v.field("height", x.height);
  v.field("width", x.width);
}

template <class V, Is<User> T>
void describe(V& v, T& x) {
  v.field("uid", x.uid);
  v.field("gid", x.gid);
  v.field("umask", x.umask);
  v.field("additionalGids", x.additional_gids);
  v.field("username", x.username);
}

template <class V, Is<Capabilities> T>
void describe(V& v, T& x) {
  v.field("bounding", x.bounding);
  v.field("effective", x.effective);
  v.field("inheritable", x.inheritable);
  v.field("permitted", x.permitted);
  v.field("ambient", x.ambient);
}

template <class V, Is<Rlimit> T>
void describe(V& v, T& x) {
  v.field("type", x.type);
  v.field("hard", x.hard);
  v.field("soft", x.soft);
}

template <class V, Is<Process> T>
void describe(V& v, T& x) {
  v.field("terminal", x.terminal);
  v.field("consoleSize", x.console_size);
  v.lenient("user", x.user);
  v.field("args", x.args, "must be a non-empty array");
  v.field("commandLine", x.command_line);
  v.field("env", x.env);
  v.lenient("cwd", x.cwd);
  v.field("capabilities", x.capabilities);
  v.field("rlimits", x.rlimits);
  v.field("noNewPrivileges", x.no_new_privileges);
  v.field("apparmorProfile", x.apparmor_profile);
  v.field("oomScoreAdj", x.oom_score_adj);
  v.field("selinuxLabel", x.selinux_label);
  v.field("scheduler", x.scheduler);
  v.field("ioPriority", x.io_priority);
  v.field("execCPUAffinity", x.exec_cpu_affinity);
}

template <class V, Is<Root> T>
void describe(V& v, T& x) {
  v.field("path", x.path);
  v.field("readonly", x.readonly);
}

template <class V, Is<IdMapping> T>
void describe(V& v, T& x) {
  v.field("containerID", x.container_id);
  v.field("hostID", x.host_id);
  v.field("size", x.size);
}

template <class V, Is<Mount> T>
void describe(V& v, T& x) {
  v.field("destination", x.destination);
  v.field("type", x.type);
  v.field("source", x.source);
  v.field("options", x.options);
  v.field("uidMappings", x.uid_mappings);
  v.field("gidMappings", x.gid_mappings);
}

template <class V, Is<Hook> T>
void describe(V& v, T& x) {
  v.field("path", x.path);
  v.field("args", x.args);
  v.field("env", x.env);
  v.field("timeout", x.timeout);
}

template <class V, Is<Hooks> T>
void describe(V& v, T& x) {
  v.field("prestart", x.prestart);
  v.field("createRuntime", x.create_runtime);
  v.field("createContainer", x.create_container);
  v.field("startContainer", x.start_container);
  v.field("poststart", x.poststart);
  v.field("poststop", x.poststop);
}

template <class V, Is<Namespace> T>
void describe(V& v, T& x) {
  v.field("type", x.type);
  v.field("path", x.path);
}

template <class V, Is<Device> T>
void describe(V& v, T& x) {
  v.field("type", x.type);
  v.field("path", x.path);
  v.field("major", x.major);
  v.field("minor", x.minor);
  v.field("fileMode", x.file_mode);
  v.field("uid", x.uid);
  v.field("gid", x.gid);
}

template <class V, Is<DeviceCgroup> T>
void describe(V& v, T& x) {
  v.field("allow", x.allow);
  v.field("type", x.type);
  v.field("major", x.major);
  v.field("minor", x.minor);
  v.field("access", x.access);
}

template <class V, Is<Memory> T>
void describe(V& v, T& x) {
  v.field("limit", x.limit);
  v.field("reservation", x.reservation);
  v.field("swap", x.swap);
  v.field("kernel", x.kernel);
  v.field("kernelTCP", x.kernel_tcp);
  v.field("swappiness", x.swappiness);
  v.field("disableOOMKiller", x.disable_oom_killer);
  v.field("useHierarchy", x.use_hierarchy);
  v.field("checkBeforeUpdate", x.check_before_update);
}

template <class V, Is<Cpu> T>
void describe(V& v, T& x) {
  v.field("shares", x.shares);
  v.field("quota", x.quota);
  v.field("burst", x.burst);
  v.field("period", x.period);
  v.field("realtimeRuntime", x.realtime_runtime);
  v.field("realtimePeriod", x.realtime_period);
  v.field("cpus", x.cpus);
  v.field("mems", x.mems);
  v.field("idle", x.idle);
}

template <class V, Is<Pids> T>
void describe(V& v, T& x) {
  v.field("limit", x.limit);
}

template <class V, Is<WeightDevice> T>
void describe(V& v, T& x) {
  v.field("major", x.major);
  v.field("minor", x.minor);
  v.field("weight", x.weight);
  v.field("leafWeight", x.leaf_weight);
}

template <class V, Is<ThrottleDevice> T>
void describe(V& v, T& x) {
  v.field("major", x.major);
  v.field("minor", x.minor);
  v.field("rate", x.rate);
}

template <class V, Is<BlockIo> T>
void describe(V& v, T& x) {
  v.field("weight", x.weight);
  v.field("leafWeight", x.leaf_weight);
  v.field("weightDevice", x.weight_device);
  v.field("throttleReadBpsDevice", x.throttle_read_bps_device);
  v.field("throttleWriteBpsDevice", x.throttle_write_bps_device);
  v.field("throttleReadIOPSDevice", x.throttle_read_iops_device);
  v.field("throttleWriteIOPSDevice", x.throttle_write_iops_device);
}

template <class V, Is<HugepageLimit> T>
void describe(V& v, T& x) {
  v.field("pageSize", x.page_size);
  v.field("limit", x.limit);
}

template <class V, Is<InterfacePriority> T>
void describe(V& v, T& x) {
  v.field("name", x.name);
  v.field("priority", x.priority);
}

template <class V, Is<Network> T>
void describe(V& v, T& x) {
  v.field("classID", x.class_id);
  v.field("priorities", x.priorities);
}

template <class V, Is<Rdma> T>
void describe(V& v, T& x) {
  v.field("hcaHandles", x.hca_handles);
  v.field("hcaObjects", x.hca_objects);
}

template <class V, Is<Resources> T>
void describe(V& v, T& x) {
  v.field("devices", x.devices);
  v.field("memory", x.memory);
  v.field("cpu", x.cpu);
  v.field("pids", x.pids);
  v.field("blockIO", x.block_io);
  v.field("hugepageLimits", x.hugepage_limits);
  v.field("network", x.network);
  v.field("rdma", x.rdma);
  v.field("unified", x.unified);
}

template <class V, Is<SeccompArg> T>
void describe(V& v, T& x) {
  v.field("index", x.index);
  v.field("value", x.value);
  v.field("valueTwo", x.value_two);
  v.field("op", x.op);
}

template <class V, Is<Syscall> T>
void describe(V& v, T& x) {
  v.field("names", x.names);
  v.field("action", x.action);
  v.field("errnoRet", x.errno_ret);
  v.field("args", x.args);
}

template <class V, Is<Seccomp> T>
void describe(V& v, T& x) {
  v.field("defaultAction", x.default_action);
  v.field("defaultErrnoRet", x.default_errno_ret);
  v.field("architectures", x.architectures);
  v.field("flags", x.flags);
  v.field("listenerPath", x.listener_path);
  v.field("listenerMetadata", x.listener_metadata);
  v.field("syscalls", x.syscalls);
}

template <class V, Is<Personality> T>
void describe(V& v, T& x) {
  v.field("domain", x.domain);
  v.field("flags", x.flags);
}

template <class V, Is<Linux> T>
void describe(V& v, T& x) {
  v.field("namespaces", x.namespaces);
  v.field("uidMappings", x.uid_mappings);
  v.field("gidMappings", x.gid_mappings);
  v.field("devices", x.devices);
  v.field("cgroupsPath", x.cgroups_path);
  v.field("resources", x.resources);
  v.field("sysctl", x.sysctl);
  v.field("seccomp", x.seccomp);
  v.field("rootfsPropagation", x.rootfs_propagation);
  v.field("maskedPaths", x.masked_paths);
  v.field("readonlyPaths", x.readonly_paths);
  v.field("mountLabel", x.mount_label);
  v.field("personality", x.personality);
  v.field("intelRdt", x.intel_rdt);
  v.field("timeOffsets", x.time_offsets);
}

template <class V, Is<Spec> T>
void describe(V& v, T& x) {
  v.field("ociVersion", x.oci_version);
  v.field("process", x.process);
  v.field("root", x.root);
  v.field("hostname", x.hostname);
  v.field("domainname", x.domainname);
  v.field("mounts", x.mounts);
  v.field("hooks", x.hooks);
  v.field("annotations", x.annotations);
  v.field("linux", x.linux);
}

// True for the model's structs (each has a describe() and an `extra`).
template <class T>
concept Described = requires(T& t) {
  t.extra;
};

}  // namespace hull::oci::detail
