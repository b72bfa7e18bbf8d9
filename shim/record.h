// What the shim daemon of a pod leaves on disk for `delete` (runs after a
// shim died): <root>/pods/<pod>.json, written atomically when the daemon
// starts and again when its VM is up, removed when it exits cleanly.
//
//   {"pod": "p1", "address": "unix:///run/containerd/s/..",
//    "shim": {"pid": 10, "start": 123},
//    "sandbox_dir": "/run/hull/shim/default/sandboxes/p1", "socket_dir": "",
//    "procs": [{"name": "qemu", "pid": 11, "start": 130}, ...],
//    "cgroup": {...}}                     the pod's host cgroup, when it has one
//
// Processes are named with their start time (clock ticks since boot) so a
// recycled pid is never signalled.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace hull::shim {

// Where the pods of one containerd namespace live: <kShimRoot>/<ns> is the
// sandbox root (sandboxes/<pod>/, see runtime/sandbox/layout.h).
inline constexpr std::string_view kShimRoot = "/run/hull/shim";
inline constexpr size_t kMaxRecordBytes = 64 * 1024;

struct ProcRef {
  std::string name;
  pid_t pid = 0;
  uint64_t start = 0;
  bool operator==(const ProcRef&) const = default;
};

struct PodRecord {
  std::string pod;
  std::string address;
  ProcRef shim;
  std::string sandbox_dir;  // empty until the VM has booted
  std::string socket_dir;   // the sockets' own directory for a deep root, else empty
  std::vector<ProcRef> procs;
  // The pod's host cgroup (hostcgroup::Cgroup::to_json), "" without one.
  std::string cgroup;
  bool operator==(const PodRecord&) const = default;
};

// <kShimRoot>/<ns>; Errc::Invalid for a namespace that cannot be a path component.
Result<std::string> pod_root(std::string_view ns);
std::string record_path(const std::string& root, std::string_view pod);

// Pure.
std::string record_json(const PodRecord& r);
// Pure: Errc::Invalid naming the field that is missing or of the wrong type.
Result<PodRecord> parse_record(std::string_view text);

Status write_record(const std::string& path, const PodRecord& r);
// nullopt when there is no record.
Result<std::optional<PodRecord>> read_record(const std::string& path);

// This process as a ProcRef (its start time from /proc/self/stat).
ProcRef self_ref(std::string name);

}  // namespace hull::shim
