#include "runtime/hostcgroup/paths.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/cgroup/path.h"
#include "common/text.h"
#include "runtime/hostcgroup/limits.h"

namespace hull::hostcgroup {
namespace {

// The v1 controllers runc joins (its fs subsystems); the other words in a
// mount's super options (rw, xattr, noprefix, release_agent=..., debug) are
// not ones it joins.
constexpr std::string_view kV1Controllers[] = {
    "blkio",  "cpu",     "cpuacct",  "cpuset",     "devices", "freezer", "hugetlb",
    "memory", "net_cls", "net_prio", "perf_event", "pids",    "rdma",    "misc"};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() &&
        std::all_of(s.begin() + static_cast<ptrdiff_t>(i) + 1,
                    s.begin() + static_cast<ptrdiff_t>(i) + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string join_path(std::string_view a, std::string_view b) {
  std::string out(a);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  std::string_view rest = b;
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  if (rest.empty()) return out;
  if (out != "/") out.push_back('/');
  out.append(rest);
  return out;
}

std::string dirname_of(std::string_view p) {
  size_t at = p.rfind('/');
  if (at == std::string_view::npos) return ".";
  if (at == 0) return "/";
  return std::string(p.substr(0, at));
}

}  // namespace

Result<std::vector<ProcCgroup>> parse_proc_cgroup(std::string_view text) {
  std::vector<ProcCgroup> out;
  for (std::string_view line : split(text, '\n')) {
    if (line.empty()) continue;
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    auto bad = [&] {
      return fail(Errc::Invalid,
                  "/proc cgroup line \"" + std::string(line) + "\": not id:controllers:path");
    };
    if (c2 == std::string_view::npos) return bad();
    ProcCgroup e;
    std::string_view id = line.substr(0, c1);
    auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), e.hierarchy_id);
    if (ec != std::errc() || p != id.data() + id.size() || id.empty()) return bad();
    std::string_view ctrls = line.substr(c1 + 1, c2 - c1 - 1);
    if (!ctrls.empty()) {
      for (auto c : split(ctrls, ',')) e.controllers.emplace_back(c);
      std::sort(e.controllers.begin(), e.controllers.end());
    }
    e.path = std::string(line.substr(c2 + 1));
    if (!e.path.starts_with('/')) return bad();
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<Hierarchy>> parse_mountinfo(std::string_view text) {
  std::vector<Hierarchy> out;
  for (std::string_view line : split(text, '\n')) {
    if (line.empty()) continue;
    size_t sep = line.find(" - ");
    if (sep == std::string_view::npos) {
      return fail(Errc::Invalid, "mountinfo line \"" + std::string(line) + "\": no \" - \"");
    }
    auto pre = split(line.substr(0, sep), ' ');
    auto post = split(line.substr(sep + 3), ' ');
    if (pre.size() < 6 || post.size() < 3) {
      return fail(Errc::Invalid, "mountinfo line \"" + std::string(line) + "\": too few fields");
    }
    std::string_view fstype = post[0];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    Hierarchy h;
    h.root = unescape_octal(pre[3]);
    h.mount_point = unescape_octal(pre[4]);
    h.v2 = fstype == "cgroup2";
    if (!h.v2) {
      for (auto opt : split(post[2], ',')) {
        bool known = std::find(std::begin(kV1Controllers), std::end(kV1Controllers), opt) !=
                     std::end(kV1Controllers);
        if (known || opt.starts_with("name=")) h.controllers.emplace_back(opt);
      }
      std::sort(h.controllers.begin(), h.controllers.end());
    }
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<Hierarchy> joinable(const std::vector<Hierarchy>& all, std::string_view unified_root) {
  for (const auto& h : all) {
    if (h.v2 && h.mount_point == unified_root) return {h};
  }
  std::vector<Hierarchy> out;
  std::set<std::vector<std::string>> seen;
  bool have_v2 = false;
  for (const auto& h : all) {
    if (h.v2) {
      if (!have_v2) out.push_back(h);
      have_v2 = true;
      continue;
    }
    bool kernel = std::any_of(h.controllers.begin(), h.controllers.end(),
                              [](const std::string& c) { return !c.starts_with("name="); });
    bool systemd = h.controllers == std::vector<std::string>{"name=systemd"};
    if (!kernel && !systemd) continue;
    if (!seen.insert(h.controllers).second) continue;
    out.push_back(h);
  }
  return out;
}

bool unified_mode(const std::vector<Hierarchy>& joined) {
  return joined.size() == 1 && joined[0].v2;
}

Result<CgroupsPath> cgroups_path(const std::optional<std::string>& spec_path, bool systemd,
                                 const std::string& id) {
  std::string given = spec_path.value_or("");
  if (!systemd) {
    // runc: an absent path is the container's name under the caller's cgroup.
    std::string p = cgroup::clean_path(given.empty() ? id : given);
    if (p.empty() || p == "/") {
      // "/" or "." would be the hierarchy's root or the caller's own cgroup:
      // runc refuses to create or remove those, so does hull.
      return fail(Errc::Invalid, "linux.cgroupsPath " + given +
                                     ": names the root of the cgroup hierarchy, not a cgroup");
    }
    if (std::count(p.begin(), p.end(), '/') >= static_cast<ptrdiff_t>(kMaxPathDepth)) {
      return fail(Errc::Invalid, "linux.cgroupsPath " + given + ": deeper than " +
                                     std::to_string(kMaxPathDepth) + " levels");
    }
    return CgroupsPath{p};
  }
  HULL_ASSIGN(p, cgroup::systemd_path(given, id));
  return CgroupsPath{p};
}

const ProcCgroup* find_line(const std::vector<ProcCgroup>& cgroups, const Hierarchy& h) {
  for (const auto& c : cgroups) {
    if (h.v2 ? (c.hierarchy_id == 0 && c.controllers.empty()) : c.controllers == h.controllers) {
      return &c;
    }
  }
  return nullptr;
}

std::string hierarchy_name(const Hierarchy& h) {
  if (h.v2) return "unified";
  std::string out;
  for (const auto& c : h.controllers) {
    if (!out.empty()) out.push_back(',');
    out += c;
  }
  return out;
}

Result<std::string> own_dir(const Hierarchy& h, const ProcCgroup& line, bool parent) {
  std::string mine = parent ? dirname_of(line.path) : line.path;
  // The mount may show a sub-tree of the hierarchy (a container's cgroup
  // namespace, a bind mount): the process's cgroup is then below its root.
  if (h.root == "/") return join_path(h.mount_point, mine);
  if (mine == h.root || mine.starts_with(h.root + "/")) {
    return join_path(h.mount_point, mine.substr(h.root.size()));
  }
  return fail(Errc::NotFound, "the " + hierarchy_name(h) + " cgroup " + mine + " is outside " +
                                  h.mount_point + " (which shows " + h.root + ")");
}

Result<std::string> cgroup_dir(const Hierarchy& h, const CgroupsPath& p,
                               const std::vector<ProcCgroup>& own, bool unified) {
  if (p.absolute()) return join_path(h.mount_point, p.path);
  const ProcCgroup* line = find_line(own, h);
  if (!line) {
    return fail(Errc::NotFound, "linux.cgroupsPath " + p.path + ": the caller is in no " +
                                    hierarchy_name(h) + " cgroup (/proc/self/cgroup)");
  }
  HULL_ASSIGN(base, wrap(own_dir(h, *line, unified), "linux.cgroupsPath " + p.path));
  return join_path(base, p.path);
}

}  // namespace hull::hostcgroup
