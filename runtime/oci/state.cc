#include "runtime/oci/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "common/file.h"

namespace hull::oci {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxStateBytes = 4 << 20;
constexpr const char* kStateFile = "state.json";
constexpr const char* kLockFile = ".lock";
constexpr std::string_view kSandboxesDir = "sandboxes";

Status mkdir_p(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fail(Error{Errc::System, ec.value(), "creating " + path});
  return {};
}

Result<StateLock> take_lock(const std::string& dir) {
  std::string path = dir + "/" + kLockFile;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail_errno("opening lock " + path);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return fail_errno("locking " + path);
  }
  return StateLock(std::move(fd));
}

}  // namespace

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

Status validate_id(std::string_view id) {
  auto bad = [&](const std::string& why) {
    return fail(Errc::Invalid, "invalid container ID format: \"" + std::string(id) + "\": " + why);
  };
  if (id.empty()) return bad("must not be empty");
  if (id.size() > kMaxIdLength) {
    return bad("longer than " + std::to_string(kMaxIdLength) + " bytes");
  }
  if (id == "." || id == "..") return bad("must not be \".\" or \"..\"");
  for (char c : id) {
    bool good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '+' || c == '-' || c == '.';
    if (!good) return bad("only letters, digits and _ + - . are allowed");
  }
  return {};
}

Result<StateLock> StateStore::create(std::string_view id) {
  HULL_TRY(validate_id(id));
  if (id == kSandboxesDir) {
    return fail(Errc::Invalid,
                "invalid container ID format: \"sandboxes\": the name is reserved "
                "for hull's sandbox directory under the root");
  }
  HULL_TRY(mkdir_p(root_));
  std::string d = dir(id);
  if (::mkdir(d.c_str(), 0711) != 0) {
    if (errno == EEXIST) {
      return fail(Errc::Exists, "container with id exists: " + std::string(id));
    }
    return fail_errno("creating " + d);
  }
  return take_lock(d);
}

Result<StateLock> StateStore::lock(std::string_view id) {
  HULL_TRY(validate_id(id));
  std::string d = dir(id);
  UniqueFd dfd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dfd) {
    if (errno == ENOENT)
      return fail(Errc::NotFound, "container does not exist: " + std::string(id));
    return fail_errno("opening " + d);
  }
  return take_lock(d);
}

Status StateStore::save(const State& s) {
  HULL_TRY(validate_id(s.id));
  return write_file_atomic(dir(s.id) + "/" + kStateFile, to_json(s).dump() + "\n", 0600);
}

Result<State> StateStore::load(std::string_view id) const {
  HULL_TRY(validate_id(id));
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
  HULL_TRY(validate_id(id));
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
    if (!validate_id(name)) continue;  // also skips "." and ".."
    if (name == kSandboxesDir) continue;
    struct stat st {};
    if (::stat((root_ + "/" + name + "/" + kStateFile).c_str(), &st) == 0) ids.push_back(name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace hull::oci
