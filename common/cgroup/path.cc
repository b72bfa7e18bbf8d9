#include "common/cgroup/path.h"

#include <algorithm>
#include <vector>

#include "common/text.h"

namespace hull::cgroup {
namespace {

const std::string kField = "linux.cgroupsPath";

}  // namespace

std::string clean_path(std::string_view p) {
  if (p.empty()) return "";
  bool abs = p.front() == '/';
  std::vector<std::string_view> parts;
  for (auto c : split(p, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;  // above the root (or the relative start) stays there
    }
    parts.push_back(c);
  }
  std::string out = abs ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(parts[i]);
  }
  return out;
}

Result<std::string> expand_slice(std::string_view slice) {
  constexpr std::string_view kSuffix = ".slice";
  auto invalid = [&] { return fail(Errc::Invalid, "invalid slice name: " + std::string(slice)); };
  if (slice.size() < kSuffix.size() || !slice.ends_with(kSuffix)) return invalid();
  if (slice.find('/') != std::string_view::npos) return invalid();
  std::string_view name = slice.substr(0, slice.size() - kSuffix.size());
  if (name == "-") return std::string("/");
  std::string path, prefix;
  for (auto component : split(name, '-')) {
    if (component.empty()) return invalid();
    path += "/" + prefix + std::string(component) + std::string(kSuffix);
    prefix += std::string(component) + "-";
  }
  return path;
}

bool systemd_form(std::string_view p) {
  return !p.empty() && p.front() != '/' && p.find(':') != std::string_view::npos;
}

Result<std::string> systemd_path(std::string_view given, std::string_view id) {
  std::string slice = "system.slice", prefix = "runc", name(id);
  if (!given.empty()) {
    auto parts = split(given, ':');
    if (parts.size() != 3) {
      return fail(Errc::Invalid,
                  "expected cgroupsPath to be of format \"slice:prefix:name\" for systemd "
                  "cgroups, got " +
                      quote(given) + " instead");
    }
    if (!parts[0].empty()) slice = std::string(parts[0]);
    prefix = std::string(parts[1]);
    name = std::string(parts[2]);
  }
  if (name.empty() || name.find('/') != std::string::npos) {
    return fail(Errc::Invalid,
                kField + " " + std::string(given) + ": bad unit name " + quote(name));
  }
  HULL_ASSIGN(parent, wrap(expand_slice(slice), kField + " " + std::string(given)));
  std::string unit;
  if (name.ends_with(".slice")) {
    unit = name;
  } else {
    unit = prefix.empty() ? name + ".scope" : prefix + "-" + name + ".scope";
  }
  return clean_path(parent + "/" + unit);
}

Result<std::string> vm_path(const std::optional<std::string>& cgroups_path, std::string_view id) {
  if (!cgroups_path || cgroups_path->empty()) {
    if (id.empty() || id.find('/') != std::string_view::npos || id == "." || id == "..") {
      return fail(Errc::Invalid, "container id " + quote(id) + " cannot name a cgroup");
    }
    return "/hull/" + std::string(id);
  }
  const std::string& p = *cgroups_path;
  if (systemd_form(p)) return systemd_path(p, id);
  for (auto comp : split(p, '/')) {
    if (comp == "..") return fail(Errc::Invalid, kField + ": must not contain \"..\": " + quote(p));
  }
  std::string out = clean_path("/" + p);
  if (out == "/") return fail(Errc::Invalid, kField + ": names the cgroup root itself");
  return out;
}

Result<std::string> sub_cgroup_path(std::string_view p) {
  std::vector<std::string_view> parts;
  for (auto c : split(p, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (parts.empty()) return fail(Errc::Invalid, "bad sub cgroup path: " + std::string(p));
      parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  std::string out;
  for (auto c : parts) out += (out.empty() ? "" : "/") + std::string(c);
  return out;
}

Result<std::string> exec_sub_cgroup(const std::vector<std::string>& args) {
  // cgroup v1's controllers and v2's (runc 1.1 knows a controller by the
  // hierarchy the host mounts it in).
  static constexpr std::string_view kControllers[] = {
      "blkio",  "cpu",  "cpuacct", "cpuset",   "devices",    "freezer", "hugetlb", "io",
      "memory", "misc", "net_cls", "net_prio", "perf_event", "pids",    "rdma",    "name=systemd"};
  if (args.empty()) return std::string();
  std::vector<std::string> named;
  std::optional<std::string> path;
  std::string first_arg;
  for (const auto& a : args) {
    size_t colon = a.find(':');
    if (colon == std::string::npos) {
      if (args.size() != 1) {
        return fail(Errc::Invalid,
                    "invalid --cgroup argument: " + a + " (missing <controller>: prefix)");
      }
      return sub_cgroup_path(a);
    }
    std::string sub = a.substr(colon + 1);
    for (auto ctrl : split(std::string_view(a).substr(0, colon), ',')) {
      if (ctrl.empty()) {
        return fail(Errc::Invalid,
                    "invalid --cgroup argument: " + a + " (empty <controller> prefix)");
      }
      if (std::find(std::begin(kControllers), std::end(kControllers), ctrl) ==
          std::end(kControllers)) {
        return fail(Errc::Invalid, "invalid --cgroup argument: " + a + " (unknown controller " +
                                       std::string(ctrl) + ")");
      }
      if (std::find(named.begin(), named.end(), ctrl) != named.end()) {
        return fail(Errc::Invalid, "invalid --cgroup argument(s): controller " + std::string(ctrl) +
                                       " specified multiple times");
      }
      named.emplace_back(ctrl);
    }
    HULL_ASSIGN(clean, sub_cgroup_path(sub));
    if (path && *path != clean) {
      return fail(Errc::Invalid,
                  "--cgroup " + first_arg + " and " + a +
                      ": a hull container's cgroup is cgroup v2 in its VM, one tree for every "
                      "controller; give all controllers the same sub-cgroup");
    }
    if (!path) first_arg = a;
    path = std::move(clean);
  }
  return *path;
}

}  // namespace hull::cgroup
