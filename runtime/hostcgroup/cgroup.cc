#include "runtime/hostcgroup/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include "common/file.h"
#include "common/unique_fd.h"
#include "runtime/hostcgroup/limits.h"
#include "runtime/hostcgroup/values.h"

namespace hull::hostcgroup {
namespace {

using Json = nlohmann::json;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string parent_of(const std::string& p) {
  size_t at = p.rfind('/');
  return at == 0 ? "/" : p.substr(0, at);
}

// One write(2) of the whole value, as the kernel's cgroup files want it.
// Returns 0 or the errno.
int write_value(const std::string& file, const std::string& value) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return errno;
  if (static_cast<size_t>(n) != value.size()) return EIO;
  return 0;
}

Result<std::string> read_value(const std::string& file) {
  HULL_ASSIGN(text, read_file(file, kMaxProcFileBytes));
  return trim(std::move(text));
}

bool has_subdirs(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && e->d_type == DT_DIR) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && e->d_type == DT_DIR) out.push_back(dir + "/" + n);
  }
  ::closedir(d);
  return out;
}

std::vector<pid_t> tasks_of(const std::string& dir) {
  std::vector<pid_t> out;
  auto text = read_file(dir + "/cgroup.procs", kMaxProcFileBytes);
  if (!text) return out;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    long v = std::strtol(text->substr(start, end - start).c_str(), nullptr, 10);
    if (v > 0) out.push_back(static_cast<pid_t>(v));
    start = end + 1;
  }
  return out;
}

// SIGKILL to the tasks of `dir`, each through a pidfd opened while it still
// is in the cgroup (a pid recycled meanwhile is not hit).
void kill_tasks(const std::string& dir) {
  for (pid_t pid : tasks_of(dir)) {
    if (pid == ::getpid()) continue;  // `hull create` while its monitor forks
    UniqueFd pfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pfd) continue;
    auto again = tasks_of(dir);
    if (std::find(again.begin(), again.end(), pid) == again.end()) continue;
    (void)::syscall(SYS_pidfd_send_signal, pfd.get(), SIGKILL, nullptr, 0);
  }
}

std::string pid_list(const std::vector<pid_t>& pids) {
  std::string out;
  for (pid_t p : pids) out += (out.empty() ? "" : " ") + std::to_string(p);
  return out;
}

// Removes the cgroup directory `dir` (`leaf`: the container's own, whose
// sub-cgroups go first, as runc's RemovePath), waiting for tasks that are
// still exiting; `kill`: its tasks get SIGKILL once. True when it is gone,
// false when a parent is still in use by another cgroup below it (a shared
// parent: left in place, not an error).
Result<bool> remove_dir(const std::string& where, const std::string& dir, bool leaf, bool kill) {
  using Clock = std::chrono::steady_clock;
  if (leaf) {
    for (const auto& sub : subdirs(dir)) HULL_TRY(remove_dir(where, sub, true, kill));
  }
  auto deadline = Clock::now() + kRemoveRetryBudget;
  auto delay = std::chrono::milliseconds(1);
  bool killed = false;
  while (true) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    int e = errno;
    if (e == EINTR) continue;
    if (e != EBUSY && e != ENOTEMPTY) return fail_errno(where + ": rmdir " + dir, e);
    // A parent with tasks or another cgroup in it is in use: left, at once.
    if (!leaf && (e == EBUSY || has_subdirs(dir))) return false;
    if (leaf && kill && !killed) {
      kill_tasks(dir);
      killed = true;
    }
    if (Clock::now() >= deadline) {
      auto left = tasks_of(dir);
      return std::unexpected(Error{
          Errc::System, e,
          where + ": rmdir " + dir + (left.empty() ? "" : " (tasks " + pid_list(left) + ")")});
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
}

// SIGKILL to the tasks of a leaf hull joined (and of its sub-cgroups), then
// waits until they are gone; the directories stay.
Status kill_joined(const std::string& where, const std::string& dir) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::string> all{dir};
  for (size_t i = 0; i < all.size() && all.size() < kMaxPathDepth * 16; ++i) {
    for (auto& sub : subdirs(all[i])) all.push_back(std::move(sub));
  }
  auto deadline = Clock::now() + kRemoveRetryBudget;
  auto delay = std::chrono::milliseconds(1);
  for (bool killed = false;; killed = true) {
    std::vector<pid_t> left;
    for (const auto& d : all) {
      if (!killed) kill_tasks(d);
      for (pid_t p : tasks_of(d)) {
        if (p != ::getpid()) left.push_back(p);
      }
    }
    if (left.empty()) return {};
    if (Clock::now() >= deadline) {
      return fail(Errc::Timeout,
                  where + ": " + dir + ": tasks " + pid_list(left) + " still there after SIGKILL");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
}

// The hierarchy in `hs` that `d` belongs to.
const Hierarchy* hierarchy_of(const std::vector<Hierarchy>& hs, const Dir& d) {
  for (const auto& h : hs) {
    if (h.v2 == d.v2 && (d.v2 || h.controllers == d.controllers)) return &h;
  }
  return nullptr;
}

bool clean_below(const std::string& p, const std::string& mount) {
  return p.starts_with(mount + "/") && clean_path(p) == p;
}

}  // namespace

Cgroup::~Cgroup() {
  if (owned_) (void)remove(true);
}

Cgroup::Cgroup(Cgroup&& o) noexcept
    : path_(std::move(o.path_)),
      dirs_(std::move(o.dirs_)),
      owned_(std::exchange(o.owned_, false)) {}

Cgroup& Cgroup::operator=(Cgroup&& o) noexcept {
  if (this != &o) {
    if (owned_) (void)remove(true);
    path_ = std::move(o.path_);
    dirs_ = std::move(o.dirs_);
    owned_ = std::exchange(o.owned_, false);
  }
  return *this;
}

Result<std::vector<Hierarchy>> host_hierarchies() {
  HULL_ASSIGN(text, read_file("/proc/self/mountinfo", kMaxProcFileBytes));
  HULL_ASSIGN(all, parse_mountinfo(text));
  return joinable(all);
}

Result<Cgroup> Cgroup::create(const oci::Spec& spec, bool systemd, const std::string& id) {
  std::optional<std::string> given;
  if (spec.linux) given = spec.linux->cgroups_path;
  HULL_ASSIGN(path, cgroups_path(given, systemd, id));
  HULL_ASSIGN(hs, host_hierarchies());
  if (hs.empty()) {
    return fail(Errc::Unsupported, "linux.cgroupsPath " + path.path +
                                       ": no cgroup file system is mounted on the host");
  }
  HULL_ASSIGN(own_text, read_file("/proc/self/cgroup", kMaxProcFileBytes));
  HULL_ASSIGN(own, parse_proc_cgroup(own_text));
  const oci::Resources* r = spec.linux && spec.linux->resources ? &*spec.linux->resources : nullptr;
  return create_in(hs, path, own, r);
}

Result<Cgroup> Cgroup::create_in(const std::vector<Hierarchy>& joined, const CgroupsPath& path,
                                 const std::vector<ProcCgroup>& own, const oci::Resources* r) {
  Cgroup cg;
  cg.path_ = path.path;
  cg.owned_ = true;
  bool unified = unified_mode(joined);
  for (const auto& h : joined) {
    HULL_ASSIGN(dir, cgroup_dir(h, path, own, unified));
    cg.dirs_.push_back(Dir{hierarchy_name(h), h.controllers, h.v2, h.mount_point, dir, {}});
    Dir& d = cg.dirs_.back();
    // Each level below the mount point, outermost first.
    std::vector<std::string> levels;
    for (std::string p = dir; p != h.mount_point && p.size() > h.mount_point.size();
         p = parent_of(p)) {
      levels.insert(levels.begin(), p);
    }
    for (const auto& level : levels) {
      if (::mkdir(level.c_str(), 0755) == 0) {
        d.created.push_back(level);
      } else if (errno != EEXIST) {
        return fail_errno(cg.where() + ": mkdir " + level);
      }
    }
    if (d.created.empty() || d.created.back() != dir) {
      // An existing leaf: hull kills what is in it at delete, so it must not
      // hold anyone else's processes (runc refuses it the same way).
      if (auto tasks = tasks_of(dir); !tasks.empty()) {
        return fail(Errc::Exists, cg.where() + ": the cgroup is not empty (pids " +
                                      pid_list(tasks) + "): " + dir +
                                      " holds processes hull did not start; stop them or give the "
                                      "container a linux.cgroupsPath of its own");
      }
      d.leaf_joined = true;
    }
    bool cpuset =
        std::find(h.controllers.begin(), h.controllers.end(), "cpuset") != h.controllers.end();
    if (cpuset) {
      // A v1 cpuset with empty cpus or mems takes no task: fill each level
      // from its parent (runc's cpusetEnsureParent), before the spec's values.
      for (const auto& level : levels) {
        for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
          HULL_ASSIGN(mine, wrap(read_value(level + "/" + f), cg.where()));
          if (!mine.empty()) continue;
          HULL_ASSIGN(theirs, wrap(read_value(parent_of(level) + "/" + f), cg.where()));
          if (int e = write_value(level + "/" + f, theirs); e != 0) {
            return fail_errno(cg.where() + ": " + level + "/" + f + ": write " + theirs, e);
          }
        }
      }
    }
    if (h.v2) {
      // Enable the available controllers down to the cgroup's parent, as
      // runc does; a level that refuses (tasks in it) is left as it is and a
      // missing file below then names the controller.
      auto avail = read_value(h.mount_point + "/cgroup.controllers");
      std::vector<std::string> up{h.mount_point};
      for (size_t i = 0; i + 1 < levels.size(); ++i) up.push_back(levels[i]);
      if (avail) {
        for (const auto& p : up) {
          size_t start = 0;
          while (start < avail->size()) {
            size_t end = avail->find(' ', start);
            if (end == std::string::npos) end = avail->size();
            std::string c = avail->substr(start, end - start);
            if (!c.empty()) (void)write_value(p + "/cgroup.subtree_control", "+" + c);
            start = end + 1;
          }
        }
      }
    }
  }
  if (r) HULL_TRY(cg.apply(*r, Part::AllButBandwidth));
  return cg;
}

const Dir* Cgroup::dir_for(const std::string& controller) const {
  bool unified = dirs_.size() == 1 && dirs_[0].v2;
  for (const auto& d : dirs_) {
    if (unified) return &d;
    if (std::find(d.controllers.begin(), d.controllers.end(), controller) != d.controllers.end()) {
      return &d;
    }
  }
  return nullptr;
}

Status Cgroup::apply(const oci::Resources& r, Part part) const {
  bool unified = dirs_.size() == 1 && dirs_[0].v2;
  const Write* pending = nullptr;
  auto write_one = [&](const Write& w) -> Status {
    const Dir* d = dir_for(w.controller);
    if (!d) {
      return fail(Errc::Unsupported, where() + ": " + w.field + ": no " + w.controller +
                                         " cgroup hierarchy is mounted on the host");
    }
    std::string file = d->path + "/" + w.file;
    if (int e = write_value(file, w.value); e != 0) {
      return std::unexpected(
          Error{Errc::System, e, where() + ": " + w.file + ": write " + w.value});
    }
    if (w.verify) {
      HULL_ASSIGN(back, wrap(read_value(file), where()));
      if (back != w.value) {
        uint64_t got = std::strtoull(back.c_str(), nullptr, 10);
        uint64_t want = std::strtoull(w.value.c_str(), nullptr, 10);
        return fail(Errc::Invalid,
                    where() + ": " + w.field + ": " + shares_clamped_message(want, got));
      }
    }
    return {};
  };
  // cgroup v2 has quota and period in one file: a half not given is kept.
  oci::Resources merged = r;
  if (unified && part != Part::AllButBandwidth && r.cpu) {
    const Dir* d = dir_for("cpu");
    if (auto current = d ? read_value(d->path + "/cpu.max") : Result<std::string>{}; current) {
      HULL_ASSIGN(cpu, wrap(keep_cpu_max_half(*r.cpu, *current), where()));
      merged.cpu = std::move(cpu);
    }
  }
  for (const auto& w : host_writes(merged, unified)) {
    if ((part == Part::Bandwidth && !w.bandwidth) ||
        (part == Part::AllButBandwidth && w.bandwidth)) {
      continue;
    }
    auto st = write_one(w);
    if (!st) {
      if (w.retry_after_next && st.error().sys_errno == EINVAL) {
        pending = &w;
        continue;
      }
      return st;
    }
    if (pending) {
      HULL_TRY(write_one(*pending));
      pending = nullptr;
    }
  }
  if (pending) return write_one(*pending);
  return {};
}

Status Cgroup::limit_bandwidth(const oci::Resources& r) const {
  return apply(r, Part::Bandwidth);
}

Status Cgroup::unlimit_bandwidth() const {
  const Dir* d = dir_for("cpu");
  if (!d) return {};
  bool unified = dirs_.size() == 1 && dirs_[0].v2;
  const char* file = unified ? "cpu.max" : "cpu.cfs_quota_us";
  const char* value = unified ? "max" : "-1";
  if (int e = write_value(d->path + "/" + file, value); e != 0 && e != ENOENT) {
    return std::unexpected(
        Error{Errc::System, e, where() + ": " + file + ": write " + std::string(value)});
  }
  return {};
}

Status Cgroup::update(const oci::Resources& r) const {
  return apply(r, Part::All);
}

Status Cgroup::attach(pid_t pid) const {
  for (const auto& d : dirs_) {
    std::string v = std::to_string(pid);
    if (int e = write_value(d.path + "/cgroup.procs", v); e != 0) {
      return std::unexpected(
          Error{Errc::System, e, where() + ": " + d.path + "/cgroup.procs: write " + v});
    }
  }
  return {};
}

Result<std::vector<std::string>> dirs_of(pid_t pid, const std::vector<Hierarchy>& joined) {
  std::string file = "/proc/" + std::to_string(pid) + "/cgroup";
  HULL_ASSIGN(text, read_file(file, kMaxProcFileBytes));
  HULL_ASSIGN(lines, wrap(parse_proc_cgroup(text), file));
  std::vector<std::string> out;
  for (const auto& h : joined) {
    const ProcCgroup* line = find_line(lines, h);
    if (!line) {
      return fail(Errc::NotFound, file + ": no line for the " + hierarchy_name(h) + " hierarchy");
    }
    HULL_ASSIGN(dir, wrap(own_dir(h, *line), file));
    out.push_back(dir);
  }
  return out;
}

Result<SelfJoin> Cgroup::join_self() const {
  HULL_ASSIGN(hs, host_hierarchies());
  std::vector<Hierarchy> mine;
  for (const auto& d : dirs_) {
    const Hierarchy* h = hierarchy_of(hs, d);
    if (!h) {
      return fail(Errc::NotFound, where() + ": the " + d.hierarchy + " hierarchy is not mounted");
    }
    mine.push_back(*h);
  }
  SelfJoin j;
  HULL_ASSIGN(back, wrap(dirs_of(::getpid(), mine), where()));
  j.back_ = std::move(back);
  HULL_TRY(attach(::getpid()));
  return j;
}

Status SelfJoin::restore() {
  Status result;
  std::string v = std::to_string(::getpid());
  for (const auto& dir : back_) {
    if (int e = write_value(dir + "/cgroup.procs", v); e != 0 && result) {
      result = std::unexpected(Error{Errc::System, e, dir + "/cgroup.procs: write " + v});
    }
  }
  back_.clear();
  return result;
}

Status Cgroup::remove(bool kill_remaining) {
  Status result;
  for (auto& d : dirs_) {
    if (kill_remaining && d.leaf_joined) {
      if (auto st = kill_joined(where(), d.path); !st && result) result = std::move(st);
    }
    while (!d.created.empty()) {
      const std::string dir = d.created.back();
      auto gone = remove_dir(where(), dir, dir == d.path, kill_remaining);
      if (!gone) {
        if (result) result = std::unexpected(std::move(gone.error()));
        break;
      }
      if (!*gone) {
        d.created.clear();  // the rest are its parents: in use as well
        break;
      }
      d.created.pop_back();
    }
  }
  if (result) owned_ = false;  // on failure, still ours: the destructor tries again
  return result;
}

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
  }
  return Json{{"path", path_}, {"dirs", dirs}};
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
    } catch (const nlohmann::json::exception& x) {
      return bad(x.what());
    }
    if (!d.mount_point.starts_with('/') || clean_path(d.mount_point) != d.mount_point) {
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
