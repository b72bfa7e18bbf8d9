#include "runtime/hostcgroup/cgroup.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/cgroup/resources.h"
#include "common/cgroup/stats.h"
#include "common/file.h"
#include "runtime/hostcgroup/files.h"
#include "runtime/hostcgroup/limits.h"
#include "runtime/hostcgroup/values.h"

namespace hull::hostcgroup {
namespace {

std::string parent_of(const std::string& p) {
  size_t at = p.rfind('/');
  return at == 0 ? "/" : p.substr(0, at);
}

// The hierarchy in `hs` that `d` belongs to.
const Hierarchy* hierarchy_of(const std::vector<Hierarchy>& hs, const Dir& d) {
  for (const auto& h : hs) {
    if (h.v2 == d.v2 && (d.v2 || h.controllers == d.controllers)) return &h;
  }
  return nullptr;
}

// 128 random bits, hex: the owner token of one container's cgroup.
Result<std::string> new_owner_token() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("getrandom for the host cgroup's owner token");
    }
    got += static_cast<size_t>(n);
  }
  std::string out;
  for (unsigned char b : bytes) {
    const char* hex = "0123456789abcdef";
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

// runc's refusal of a frozen cgroup: joining it would freeze the monitor and
// `hull create` with it, which then never returns.
Status refuse_frozen(const std::string& where, const Hierarchy& h, const std::string& dir) {
  auto frozen = [&](const std::string& file, const std::string& how) {
    return fail(Errc::InvalidState,
                where + ": container's cgroup unexpectedly frozen (" + file + " " + how +
                    "): thaw it, or give the container a linux.cgroupsPath of its own");
  };
  if (h.v2) {
    if (auto v = read_value(dir + "/cgroup.freeze"); v && *v == "1") {
      return frozen(dir + "/cgroup.freeze", "is 1");
    }
    if (auto ev = read_file(dir + "/cgroup.events", kMaxProcFileBytes)) {
      auto keyed = cgroup::parse_flat_keyed(*ev);
      if (keyed && keyed->contains("frozen") && keyed->at("frozen") == 1) {
        return frozen(dir + "/cgroup.events", "says frozen 1");
      }
    }
    return {};
  }
  if (std::find(h.controllers.begin(), h.controllers.end(), "freezer") == h.controllers.end()) {
    return {};
  }
  auto state = read_value(dir + "/freezer.state");
  if (state && (*state == "FROZEN" || *state == "FREEZING")) {
    return frozen(dir + "/freezer.state", "is " + *state);
  }
  return {};
}

}  // namespace

Cgroup::~Cgroup() {
  if (owned_) (void)remove(true);
}

Cgroup::Cgroup(Cgroup&& o) noexcept
    : path_(std::move(o.path_)),
      dirs_(std::move(o.dirs_)),
      owner_(std::move(o.owner_)),
      foreign_tasks_(o.foreign_tasks_),
      owned_(std::exchange(o.owned_, false)) {}

Cgroup& Cgroup::operator=(Cgroup&& o) noexcept {
  if (this != &o) {
    if (owned_) (void)remove(true);
    path_ = std::move(o.path_);
    dirs_ = std::move(o.dirs_);
    owner_ = std::move(o.owner_);
    foreign_tasks_ = o.foreign_tasks_;
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
  HULL_ASSIGN(owner, new_owner_token());
  cg.owner_ = std::move(owner);
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
    HULL_TRY(refuse_frozen(cg.where(), h, dir));
    if (d.created.empty() || d.created.back() != dir) {
      // An existing leaf: joined. With tasks in it (another container's VM,
      // or the caller's), as runc 1.1 does: go on, and the caller warns;
      // remove(true) then kills only what carries this cgroup's owner.
      d.leaf_joined = true;
      if (auto tasks = tasks_of(dir); !tasks.empty()) {
        d.shared = true;
        cg.foreign_tasks_ = std::max(cg.foreign_tasks_, tasks.size());
      }
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
      HULL_ASSIGN(cpu, wrap(cgroup::keep_cpu_max_half(*r.cpu, *current), where()));
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

Status Cgroup::limit_memory(uint64_t bytes) const {
  const Dir* d = dir_for("memory");
  if (!d || d->shared) return {};
  bool unified = dirs_.size() == 1 && dirs_[0].v2;
  const char* file = unified ? "memory.max" : "memory.limit_in_bytes";
  std::string value = std::to_string(bytes);
  if (int e = write_value(d->path + "/" + file, value); e != 0) {
    return std::unexpected(Error{
        Errc::System, e,
        where() + ": " + file + ": write " + value + " (the VM's RAM plus its host overhead)"});
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

}  // namespace hull::hostcgroup
