// A runc-mode container's record: the OCI state `runc state` prints plus
// what hull keeps to act on the container later (its VM's sandbox and
// processes, its host cgroup, its hooks, what a pause interrupted), typed.
//
// On disk it is one state.json (oci::StateStore), hull's fields under "hull":
//
//   {"ociVersion": ..., "id": ..., "pid": ..., ...,        oci::State
//    "pidStartTime": N,
//    "hull": {"hooks": {...},                               the spec's hooks
//             "host_cgroup": {...},                         hostcgroup::Cgroup::to_json()
//             "sandbox_dir": "...", "vsock_socket": "...",  the VM's sandbox (monitor's Ready)
//             "procs": [{"name": "qemu", "pid": N, "start": N}, ...],
//             "network": {"netns": "...", "links": ["..."]},
//             "paused_from": "created" | "running"}}
//
// Every key of "hull" is optional: a record is written first before the host
// cgroup exists, again once the monitor reported its VM. Only
// record_to_json/record_from_json read or write that object.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/oci/spec.h"
#include "common/oci/state.h"

namespace hull::container {

struct Context;

// One of the VM's host processes (QEMU, virtiofsd, hull-vsock); the start
// time (/proc/<pid>/stat field 22) guards against pid reuse.
struct VmProcess {
  std::string name;
  pid_t pid = 0;
  uint64_t start_time = 0;
  bool operator==(const VmProcess&) const = default;
};

// The container's network wiring: the namespace joined by path ("" when the
// monitor made its own) and the links the monitor redirected in it.
struct NetworkRecord {
  std::string netns;
  std::vector<std::string> links;
  bool operator==(const NetworkRecord&) const = default;
};

struct Record {
  oci::State state;  // its `hull` member is record_to_json's output, nothing else
  std::optional<oci::Hooks> hooks;
  // hostcgroup::Cgroup's own record (runtime/hostcgroup/cgroup.h: to_json,
  // from_json), kept as that module wrote it.
  std::optional<nlohmann::json> host_cgroup;
  std::string sandbox_dir;   // "" until the monitor reported its VM
  std::string vsock_socket;  // the agent's hybrid vsock socket; "" likewise
  std::vector<VmProcess> procs;
  std::optional<NetworkRecord> network;
  // Set while paused: the status a resume returns to (Created or Running).
  std::optional<oci::ContainerStatus> paused_from;
};

// The "hull" object of state.json (see above).
nlohmann::json record_to_json(const Record& r);
// Record from state.json's "hull" object; Errc::Invalid naming `origin` and
// the key when a value has the wrong type.
Result<Record> record_from_json(oci::State state, std::string_view origin);

// The monitor's Ready report of its VM (sync.h): sandbox_dir, vsock_socket,
// procs and network, in the same shape as under "hull".
void apply_vm_report(Record& r, const nlohmann::json& body);

// A record loaded under the container's lock, held until destruction; save()
// writes the record back (atomically).
class LockedRecord {
 public:
  LockedRecord(oci::StateStore store, oci::StateLock lock, Record r)
      : record(std::move(r)), store_(std::move(store)), lock_(std::move(lock)) {}
  Status save();

  Record record;

 private:
  oci::StateStore store_;
  oci::StateLock lock_;
};

// Takes the container's lock (waiting as StateStore::lock does) and loads
// its record: Errc::NotFound when there is no such container.
Result<LockedRecord> load(const Context& ctx, const std::string& id);
// The record without the lock, for reading only (state, list, ps, events).
Result<Record> load_unlocked(const Context& ctx, const std::string& id);
// Saves `r` (atomically) in `store`: for create, which holds the lock of the
// container it is making (StateStore::create).
Status save(oci::StateStore& store, const Record& r);

}  // namespace hull::container
