// hull::hostcgroup::Cgroup: a container's cgroup on the HOST, at
// linux.cgroupsPath (paths.h), in every hierarchy runc would join (cgroup v1
// and hybrid: each controller's hierarchy, name=systemd and the v2 one; v2
// unified: the one tree). The container's monitor joins it before it starts
// QEMU, virtiofsd and hull-vsock, so /proc/<state.pid>/cgroup names it and
// the whole VM is accounted there. The limits in values.h are written to it;
// the container's own limits are applied exactly in the guest's cgroup v2.
//
// Ownership: an object from create() owns the directories it made (not ones
// that existed before: a shared parent such as /docker, or a cgroup the
// caller made) and removes them when it goes away, unless commit()ted; a task
// still in a leaf it made or joined is the container's and is killed first.
// The record (to_json) goes into state.json so that `delete`, another
// process, can remove them (from_json + remove()).
//
// Which tasks are the container's: every process of its VM descends from the
// monitor, which starts with kOwnerEnv=<owner()> in its environment, so they
// all carry it. A leaf can hold more than one container's VM (two containers
// given one linux.cgroupsPath: runc 1.1 warns "container's cgroup is not
// empty" and goes on, so does hull), and processes the caller put there. At
// remove(true) a task is killed when it carries this cgroup's owner; never
// when it carries another container's; and, carrying none, only when the
// leaf held no one else's tasks at create (shared() false). A leaf still in
// use by another container's tasks is left in place, not an error; the last
// container to leave removes it.
//
// A leaf (v1 freezer.state, v2 cgroup.freeze) that is frozen is refused at
// create with runc's "container's cgroup unexpectedly frozen": the monitor
// would freeze on joining it, and `hull create` with it.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/oci/spec.h"
#include "runtime/hostcgroup/paths.h"

namespace hull::hostcgroup {

// One hierarchy's share of the cgroup.
struct Dir {
  std::string hierarchy;                 // "cpu", "cpu,cpuacct", "name=systemd", "unified"
  std::vector<std::string> controllers;  // v1 controllers of the hierarchy; empty for v2
  bool v2 = false;
  std::string mount_point;
  std::string path;                  // the cgroup's directory
  std::vector<std::string> created;  // the directories hull made, outermost first
  // The leaf existed (empty) before create: hull joined it, so remove(true)
  // kills its tasks, but the directory is not hull's to remove.
  bool leaf_joined = false;
  // The leaf held other processes at create (another container's VM):
  // remove(true) kills only tasks carrying the owner, and removes the leaf
  // when it leaves it empty (the container that made it may be gone).
  bool shared = false;
  bool operator==(const Dir&) const = default;
};

// The environment variable that marks a container's VM processes as its own
// (see above).
inline constexpr std::string_view kOwnerEnv = "HULL_CGROUP_OWNER";

class SelfJoin;

class Cgroup {
 public:
  Cgroup() = default;
  ~Cgroup();
  Cgroup(Cgroup&& o) noexcept;
  Cgroup& operator=(Cgroup&& o) noexcept;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  // The container `id`'s cgroup for `spec` (linux.cgroupsPath, --systemd-cgroup)
  // in the hierarchies mounted here: makes the directories (v1 cpuset: cpus and
  // mems copied down from the parent first, v2: controllers enabled in the
  // parents), writes the host values of linux.resources but the CPU bandwidth
  // (limit_bandwidth). No task joins yet.
  static Result<Cgroup> create(const oci::Spec& spec, bool systemd, const std::string& id);

  // The same for explicit hierarchies and caller cgroup (tests, other roots).
  static Result<Cgroup> create_in(const std::vector<Hierarchy>& joined, const CgroupsPath& path,
                                  const std::vector<ProcCgroup>& own, const oci::Resources* r);

  // Moves process `pid` (all its threads) into the cgroup in every hierarchy.
  Status attach(pid_t pid) const;

  // Moves this process in; the returned guard moves it back where it was. A
  // child forked meanwhile starts inside (the monitor: race-free, before it
  // can start QEMU).
  Result<SelfJoin> join_self() const;

  // Writes the CPU quota and period of `r`: once the VM has booted (a boot
  // under TCG at a container's 0.1 CPU would take minutes), before `create`
  // returns, so the container's process runs under them from its start.
  Status limit_bandwidth(const oci::Resources& r) const;

  // Lifts the CPU quota again (`delete`: the VM's teardown is hull's work,
  // not the container's, and at a 0.1 CPU quota takes seconds).
  Status unlimit_bandwidth() const;

  // Caps the memory of everything in the cgroup (v1 memory.limit_in_bytes,
  // v2 memory.max) at `bytes`: the VM's RAM plus its host overhead
  // (container/sizing.h), so a guest cannot make its VM's host processes grow
  // past it. Not in a leaf shared with another container's VM (the limit
  // would be one VM's for two), nor without a memory controller.
  Status limit_memory(uint64_t bytes) const;

  // Writes all the host values of `r` (`update`).
  Status update(const oci::Resources& r) const;

  // Removes the directories hull created, innermost first, waiting for tasks
  // that are still exiting (kRemoveRetryBudget). `kill_remaining`: tasks left
  // in the leaf, created or joined, get SIGKILL first (delete: they can only
  // be the container's). A created parent still in use (tasks or another
  // cgroup below it) stays. The object still owns what is left on failure.
  Status remove(bool kill_remaining = false);

  // Keep the directories when this object goes away.
  void commit() { owned_ = false; }

  nlohmann::json to_json() const;
  // A committed (non-owning) Cgroup from to_json()'s record; Errc::Invalid
  // when a path is not below its mount point.
  static Result<Cgroup> from_json(const nlohmann::json& j);

  const std::string& path() const { return path_; }
  const std::vector<Dir>& dirs() const { return dirs_; }
  // The token the container's processes carry in kOwnerEnv; "" in a record
  // made before hull marked them (remove(true) then kills every task).
  const std::string& owner() const { return owner_; }
  // Tasks that were in the leaf at create (the largest count of any
  // hierarchy): the caller warns, as runc does.
  size_t foreign_tasks() const { return foreign_tasks_; }

 private:
  std::string where() const { return "linux.cgroupsPath " + path_; }
  const Dir* dir_for(const std::string& controller) const;
  enum class Part { AllButBandwidth, Bandwidth, All };
  Status apply(const oci::Resources& r, Part part) const;

  std::string path_;
  std::vector<Dir> dirs_;
  std::string owner_;
  size_t foreign_tasks_ = 0;
  bool owned_ = false;
};

// Whose a task is, for remove(true): what it carries in kOwnerEnv, from the
// text of /proc/<pid>/environ ("" when nothing). Pure.
std::string owner_in_environ(std::string_view environ_text);

// Whether remove(true) kills a task carrying `tag` (owner_in_environ) in a
// leaf of `owner` that was `shared` at create. Pure.
bool ours_to_kill(std::string_view tag, std::string_view owner, bool shared);

// This process's stay in a Cgroup (join_self); restore() or the destructor
// moves it back to the cgroups it was in.
class SelfJoin {
 public:
  SelfJoin() = default;
  ~SelfJoin() { (void)restore(); }
  SelfJoin(SelfJoin&& o) noexcept : back_(std::exchange(o.back_, {})) {}
  SelfJoin& operator=(SelfJoin&& o) noexcept {
    if (this != &o) {
      (void)restore();
      back_ = std::exchange(o.back_, {});
    }
    return *this;
  }
  SelfJoin(const SelfJoin&) = delete;
  SelfJoin& operator=(const SelfJoin&) = delete;

  Status restore();

 private:
  friend class Cgroup;
  std::vector<std::string> back_;  // the cgroup directories to return to
};

// The cgroup directories process `pid` is in, one per hierarchy in `joined`
// (/proc/<pid>/cgroup resolved against the mounts).
Result<std::vector<std::string>> dirs_of(pid_t pid, const std::vector<Hierarchy>& joined);

// The hierarchies of this host (/proc/self/mountinfo, joinable()).
Result<std::vector<Hierarchy>> host_hierarchies();

}  // namespace hull::hostcgroup
