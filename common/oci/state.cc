#include "common/oci/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "common/container_id.h"
#include "common/file.h"

namespace hull::oci {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxStateBytes = 4 << 20;
constexpr const char* kStateFile = "state.json";
constexpr const char* kLockFile = ".lock";
constexpr std::string_view kSandboxesDir = "sandboxes";

// "(hull create)" for a process's comm, or "" when it is gone.
std::string comm_note(pid_t pid) {
  auto comm = read_file("/proc/" + std::to_string(pid) + "/comm", 256);
  if (!comm) return "";
  std::string c = *comm;
  while (!c.empty() && c.back() == '\n') c.pop_back();
  return " (" + c + ")";
}

}  // namespace

std::optional<pid_t> flock_holder(std::string_view proc_locks, unsigned major, unsigned minor,
                                  uint64_t ino) {
  char want[64];
  std::snprintf(want, sizeof want, "%02x:%02x:%llu", major, minor,
                static_cast<unsigned long long>(ino));
  size_t start = 0;
  while (start < proc_locks.size()) {
    size_t end = proc_locks.find('\n', start);
    if (end == std::string_view::npos) end = proc_locks.size();
    std::string_view line = proc_locks.substr(start, end - start);
    start = end + 1;
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiter's line
    // has "->" after the number and is skipped.
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') ++i;
      size_t j = line.find(' ', i);
      if (j == std::string_view::npos) j = line.size();
      if (j > i) words.push_back(line.substr(i, j - i));
      i = j;
    }
    if (words.size() < 6 || words[1] != "FLOCK" || words[5] != want) continue;
    pid_t pid = 0;
    auto [p, ec] = std::from_chars(words[4].data(), words[4].data() + words[4].size(), pid);
    if (ec == std::errc() && p == words[4].data() + words[4].size() && pid > 0) return pid;
  }
  return std::nullopt;
}

Result<StateLock> StateStore::take_lock(std::string_view id, const std::string& dir) const {
  using Clock = std::chrono::steady_clock;
  std::string path = dir + "/" + kLockFile;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail_errno("opening lock " + path);
  auto deadline = Clock::now() + lock_wait_;
  auto delay = std::chrono::milliseconds(1);
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return fail_errno("locking " + path);
    if (Clock::now() >= deadline) {
      std::string holder = "another process";
      struct stat st {};
      if (::fstat(fd.get(), &st) == 0) {
        if (auto locks = read_file("/proc/locks", size_t{4} << 20)) {
          if (auto pid = flock_holder(*locks, major(st.st_dev), minor(st.st_dev), st.st_ino)) {
            holder = "pid " + std::to_string(*pid) + comm_note(*pid);
          }
        }
      }
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(lock_wait_).count();
      return fail(Errc::Timeout,
                  "container " + std::string(id) + " is locked by " + holder + ", still after " +
                      std::to_string(secs) + " s (" + path +
                      "): another command is working on it; retry once it is done, or, if "
                      "that process hangs, kill it and retry");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
  return StateLock(std::move(fd));
}

std::string_view status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::Creating:
      return "creating";
    case ContainerStatus::Created:
      return "created";
    case ContainerStatus::Running:
      return "running";
    case ContainerStatus::Paused:
      return "paused";
    case ContainerStatus::Stopped:
      return "stopped";
  }
  return "unknown";
}

Result<ContainerStatus> parse_status(std::string_view s) {
  for (auto st : {ContainerStatus::Creating, ContainerStatus::Created, ContainerStatus::Running,
                  ContainerStatus::Paused, ContainerStatus::Stopped}) {
    if (status_name(st) == s) return st;
  }
  return fail(Errc::Invalid, "unknown container status \"" + std::string(s) + "\"");
}

nlohmann::ordered_json state_output_json(const State& s) {
  nlohmann::ordered_json j = {{"ociVersion", s.oci_version},
                              {"id", s.id},
                              {"pid", s.pid},
                              {"status", status_name(s.status)},
                              {"bundle", s.bundle},
                              {"rootfs", s.rootfs},
                              {"created", s.created}};
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  j["owner"] = s.owner;
  return j;
}

Json to_json(const State& s) {
  Json j = Json(state_output_json(s));
  j["pidStartTime"] = s.pid_start_time;
  j["hull"] = s.hull;
  return j;
}

Result<State> state_from_json(std::string_view text, std::string_view origin) {
  std::string o(origin);
  auto bad = [&](const std::string& key, const std::string& rule) {
    return fail(Errc::Invalid, o + ": " + key + ": " + rule);
  };
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return fail(Errc::Invalid, o + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) return bad("top level", "must be an object");
  State s;
  auto str = [&](const char* key, std::string* out, bool required) -> Status {
    auto it = j.find(key);
    if (it == j.end()) return required ? bad(key, "is required") : Status{};
    if (!it->is_string()) return bad(key, "must be a string");
    *out = it->get<std::string>();
    return {};
  };
  HULL_TRY(str("ociVersion", &s.oci_version, true));
  HULL_TRY(str("id", &s.id, true));
  HULL_TRY(str("bundle", &s.bundle, true));
  HULL_TRY(str("rootfs", &s.rootfs, false));
  HULL_TRY(str("created", &s.created, true));
  HULL_TRY(str("owner", &s.owner, false));
  std::string status;
  HULL_TRY(str("status", &status, true));
  HULL_ASSIGN(st, parse_status(status));
  s.status = st;
  auto pid = j.find("pid");
  if (pid == j.end() || !pid->is_number_integer() || pid->get<int64_t>() < 0 ||
      pid->get<int64_t>() > INT32_MAX) {
    return bad("pid", "must be an integer between 0 and 2147483647");
  }
  s.pid = static_cast<int>(pid->get<int64_t>());
  if (auto t = j.find("pidStartTime"); t != j.end()) {
    if (!t->is_number_unsigned()) return bad("pidStartTime", "must be a non-negative integer");
    s.pid_start_time = t->get<uint64_t>();
  }
  if (auto a = j.find("annotations"); a != j.end()) {
    if (!a->is_object()) return bad("annotations", "must be an object of strings");
    for (const auto& [k, v] : a->items()) {
      if (!v.is_string()) return bad("annotations." + k, "must be a string");
      s.annotations[k] = v.get<std::string>();
    }
  }
  if (auto h = j.find("hull"); h != j.end()) {
    if (!h->is_object()) return bad("hull", "must be an object");
    s.hull = *h;
  }
  return s;
}

Result<StateLock> StateStore::create(std::string_view id) {
  HULL_TRY(validate_container_id(id));
  if (id == kSandboxesDir) {
    return fail(Errc::Invalid,
                "invalid container ID format: \"sandboxes\": the name is reserved "
                "for hull's sandbox directory under the root");
  }
  HULL_ASSIGN(root_fd, open_private_dir(root_));
  std::string d = dir(id);
  if (::mkdirat(root_fd.get(), std::string(id).c_str(), 0711) != 0) {
    if (errno == EEXIST) {
      return fail(Errc::Exists, "container with id exists: " + std::string(id));
    }
    return fail_errno("creating " + d);
  }
  return take_lock(id, d);
}

Result<StateLock> StateStore::lock(std::string_view id) {
  HULL_TRY(validate_container_id(id));
  std::string d = dir(id);
  UniqueFd dfd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dfd) {
    if (errno == ENOENT)
      return fail(Errc::NotFound, "container does not exist: " + std::string(id));
    return fail_errno("opening " + d);
  }
  return take_lock(id, d);
}

Status StateStore::save(const State& s) {
  HULL_TRY(validate_container_id(s.id));
  return write_file_atomic(dir(s.id) + "/" + kStateFile, to_json(s).dump() + "\n", 0600);
}

Result<State> StateStore::load(std::string_view id) const {
  HULL_TRY(validate_container_id(id));
  std::string path = dir(id) + "/" + kStateFile;
  auto text = read_file(path, kMaxStateBytes);
  if (!text) {
    if (text.error().sys_errno == ENOENT) {
      return fail(Errc::NotFound, "container does not exist: " + std::string(id));
    }
    return fail(std::move(text.error()));
  }
  return state_from_json(*text, path);
}

Status StateStore::remove(std::string_view id) {
  HULL_TRY(validate_container_id(id));
  std::error_code ec;
  std::filesystem::remove_all(dir(id), ec);
  if (ec) return fail(Error{Errc::System, ec.value(), "removing " + dir(id)});
  return {};
}

Result<std::vector<std::string>> StateStore::list() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return ids;
    return fail_errno("listing " + root_);
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!validate_container_id(name)) continue;  // also skips "." and ".."
    if (name == kSandboxesDir) continue;
    struct stat st {};
    if (::stat((root_ + "/" + name + "/" + kStateFile).c_str(), &st) == 0) ids.push_back(name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace hull::oci
