// Container state as runc keeps it: one directory per container under the
// runtime root (--root, default /run/hull), holding state.json and a lock file.
//
// state.json is a cache of what hull last knew. Status is re-derived from
// reality (the monitor process, the agent) before acting on it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/oci/limits.h"
#include "common/unique_fd.h"

namespace hull::oci {

enum class ContainerStatus { Creating, Created, Running, Paused, Stopped };

std::string_view status_name(ContainerStatus s);
Result<ContainerStatus> parse_status(std::string_view s);

// The fields `runc state` prints, plus hull's own bookkeeping under "hull".
struct State {
  std::string oci_version = "1.1.0";
  std::string id;
  int pid = 0;  // the container's pid as callers see it (hull's monitor)
  ContainerStatus status = ContainerStatus::Creating;
  std::string bundle;   // absolute path
  std::string rootfs;   // absolute path
  std::string created;  // RFC 3339 UTC with nanoseconds
  std::map<std::string, std::string> annotations;
  std::string owner;            // "" like runc for root
  uint64_t pid_start_time = 0;  // /proc/<pid>/stat field 22: guards against pid reuse
  nlohmann::json hull = nlohmann::json::object();  // sandbox paths etc. (runtime internal)
};

nlohmann::json to_json(const State& s);
Result<State> state_from_json(std::string_view text, std::string_view origin);

// The JSON `runc state <id>` prints (no hull-internal fields), in runc's key
// order: ociVersion, id, pid, status, bundle, rootfs, created, annotations
// (only when there are any), owner. `runc list --format json` prints the same
// objects (with the owner filled in).
nlohmann::ordered_json state_output_json(const State& s);

// Exclusive advisory lock on one container's state; released by the destructor.
class StateLock {
 public:
  StateLock() = default;
  explicit StateLock(UniqueFd fd) : fd_(std::move(fd)) {}
  bool held() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
};

// The pid holding the flock of the file with device (major, minor) and inode
// `ino`, from the text of /proc/locks; nullopt when no line has it. Pure.
std::optional<pid_t> flock_holder(std::string_view proc_locks, unsigned major, unsigned minor,
                                  uint64_t ino);

class StateStore {
 public:
  // `lock_wait`: how long lock() and create() wait for another command's
  // lock (limits.h) before Errc::Timeout naming the holder.
  explicit StateStore(std::string root, std::chrono::milliseconds lock_wait = kLockWait)
      : root_(std::move(root)), lock_wait_(lock_wait) {}

  const std::string& root() const { return root_; }
  std::string dir(std::string_view id) const { return root_ + "/" + std::string(id); }

  // Creates the container's directory (Exists if taken) and takes its lock.
  Result<StateLock> create(std::string_view id);
  // Takes the lock of an existing container (NotFound if none). Waits at
  // most lock_wait for another holder: Errc::Timeout naming its pid and what
  // to do.
  Result<StateLock> lock(std::string_view id);

  Status save(const State& s);  // atomic: temp file, fsync, rename
  Result<State> load(std::string_view id) const;
  Status remove(std::string_view id);             // the whole directory
  Result<std::vector<std::string>> list() const;  // ids with a state directory, sorted

 private:
  Result<StateLock> take_lock(std::string_view id, const std::string& dir) const;

  std::string root_;
  std::chrono::milliseconds lock_wait_;
};

}  // namespace hull::oci
