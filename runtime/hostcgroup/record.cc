// The host cgroup's record in state.json: what `delete`, another process,
// needs to remove it (Cgroup::to_json, Cgroup::from_json).
#include "runtime/hostcgroup/cgroup.h"

#include "common/cgroup/path.h"

namespace hull::hostcgroup {
namespace {

using Json = nlohmann::json;

bool clean_below(const std::string& p, const std::string& mount) {
  return p.starts_with(mount + "/") && cgroup::clean_path(p) == p;
}

}  // namespace

nlohmann::json Cgroup::to_json() const {
  Json dirs = Json::array();
  for (const auto& d : dirs_) {
    dirs.push_back({{"hierarchy", d.hierarchy},
                    {"controllers", d.controllers},
                    {"v2", d.v2},
                    {"mount", d.mount_point},
                    {"dir", d.path},
                    {"created", d.created}});
    if (d.leaf_joined) dirs.back()["leaf_joined"] = true;
    if (d.shared) dirs.back()["shared"] = true;
  }
  Json j{{"path", path_}, {"dirs", dirs}};
  if (!owner_.empty()) j["owner"] = owner_;
  return j;
}

Result<Cgroup> Cgroup::from_json(const nlohmann::json& j) {
  auto bad = [](const std::string& why) {
    return fail(Errc::Invalid, "state.json: host cgroup record: " + why);
  };
  if (!j.is_object() || !j.contains("path") || !j["path"].is_string() || !j.contains("dirs") ||
      !j["dirs"].is_array()) {
    return bad("not {path, dirs}");
  }
  Cgroup cg;
  cg.path_ = j["path"].get<std::string>();
  if (j.contains("owner")) {
    if (!j["owner"].is_string()) return bad("owner is not a string");
    cg.owner_ = j["owner"].get<std::string>();
  }
  for (const auto& e : j["dirs"]) {
    if (!e.is_object()) return bad("a dirs entry is not an object");
    Dir d;
    try {
      d.hierarchy = e.at("hierarchy").get<std::string>();
      d.controllers = e.at("controllers").get<std::vector<std::string>>();
      d.v2 = e.at("v2").get<bool>();
      d.mount_point = e.at("mount").get<std::string>();
      d.path = e.at("dir").get<std::string>();
      d.created = e.at("created").get<std::vector<std::string>>();
      d.leaf_joined = e.value("leaf_joined", false);
      d.shared = e.value("shared", false);
    } catch (const nlohmann::json::exception& x) {
      return bad(x.what());
    }
    if (!d.mount_point.starts_with('/') || cgroup::clean_path(d.mount_point) != d.mount_point) {
      return bad("mount " + d.mount_point + " is not a clean absolute path");
    }
    if (!clean_below(d.path, d.mount_point)) {
      return bad(d.path + " is not below " + d.mount_point);
    }
    for (const auto& c : d.created) {
      if (!clean_below(c, d.mount_point) || !(d.path == c || d.path.starts_with(c + "/"))) {
        return bad(c + " is not " + d.path + " or one of its parents below " + d.mount_point);
      }
    }
    cg.dirs_.push_back(std::move(d));
  }
  return cg;
}

}  // namespace hull::hostcgroup
