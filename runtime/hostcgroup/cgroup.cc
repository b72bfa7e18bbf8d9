#include "runtime/hostcgroup/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include "common/cgroup/path.h"
#include "common/cgroup/resources.h"
#include "common/cgroup/stats.h"
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

// The tasks of cgroup `dir`; none when it cannot be read (gone) or parsed.
std::vector<pid_t> tasks_of(const std::string& dir) {
  auto text = read_file(dir + "/cgroup.procs", kMaxProcFileBytes);
  if (!text) return {};
  return cgroup::parse_procs(*text).value_or(std::vector<pid_t>{});
}

// What task `pid` carries in kOwnerEnv ("" when it is gone or carries none).
std::string tag_of(pid_t pid) {
  auto env = read_file("/proc/" + std::to_string(pid) + "/environ", kMaxProcFileBytes);
  return env ? owner_in_environ(*env) : "";
}

// Which tasks of a leaf remove(true) may kill and waits for (Cgroup's
// comment); an empty owner (an older record) takes them all.
struct KillRule {
  std::string owner;
  bool shared = false;
  bool covers(pid_t pid) const {
    if (pid == ::getpid()) return false;  // `hull create` while its monitor forks
    return owner.empty() || ours_to_kill(tag_of(pid), owner, shared);
  }
};

std::vector<pid_t> covered_tasks(const std::string& dir, const KillRule& rule) {
  std::vector<pid_t> out;
  for (pid_t p : tasks_of(dir)) {
    if (rule.covers(p)) out.push_back(p);
  }
  return out;
}

// SIGKILL to the tasks of `dir` the rule covers, each through a pidfd opened
// while it still is in the cgroup (a pid recycled meanwhile is not hit).
void kill_tasks(const std::string& dir, const KillRule& rule) {
  for (pid_t pid : covered_tasks(dir, rule)) {
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
// still exiting; `kill`: the tasks `rule` covers get SIGKILL once. True when
// it is gone, false when it is still in use and left: a parent with another
// cgroup below it (a shared parent), or a leaf whose remaining tasks are not
// the container's (another container in the same cgroup).
Result<bool> remove_dir(const std::string& where, const std::string& dir, bool leaf, bool kill,
                        const KillRule& rule) {
  using Clock = std::chrono::steady_clock;
  if (leaf) {
    for (const auto& sub : subdirs(dir)) HULL_TRY(remove_dir(where, sub, true, kill, rule));
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
      kill_tasks(dir, rule);
      killed = true;
    }
    // Only others' tasks left (none of ours still exiting): theirs to remove.
    if (leaf && kill && !rule.owner.empty() && !tasks_of(dir).empty() &&
        covered_tasks(dir, rule).empty()) {
      return false;
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

// Whether the process behind `pidfd` has exited: every thread of it is past
// cgroup_exit, so it no longer holds any cgroup (pidfd poll semantics).
bool has_exited(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

// SIGKILL to the tasks of a leaf hull joined (and of its sub-cgroups) that the
// rule covers, then waits until they have exited; the directories stay.
//
// Whose a task is, is judged once, while it is alive: a killed task stops
// showing its environment (the kOwnerEnv tag) as soon as it drops its memory,
// but stays in the cgroup until that memory is freed, which for a VM's
// gigabytes takes a while. Judged again then, it would pass for nobody's, and
// in a shared leaf be left to exit on its own while the leaf, still
// populated, could not be removed. So the tasks killed are waited for through
// their pidfds; only tasks not killed yet (forked meanwhile) meet the rule.
Status kill_joined(const std::string& where, const std::string& dir, const KillRule& rule) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::string> all{dir};
  for (size_t i = 0; i < all.size() && all.size() < kMaxPathDepth * 16; ++i) {
    for (auto& sub : subdirs(all[i])) all.push_back(std::move(sub));
  }
  struct Killed {
    pid_t pid;
    UniqueFd pidfd;
  };
  std::vector<Killed> killed;
  auto dying = [&](pid_t pid) {
    return std::any_of(killed.begin(), killed.end(),
                       [&](const Killed& k) { return k.pid == pid && !has_exited(k.pidfd.get()); });
  };
  auto deadline = Clock::now() + kRemoveRetryBudget;
  auto delay = std::chrono::milliseconds(1);
  while (true) {
    for (const auto& d : all) {
      for (pid_t pid : tasks_of(d)) {
        if (dying(pid) || !rule.covers(pid)) continue;
        // Through a pidfd opened while it still is in the cgroup: a pid
        // recycled meanwhile is not hit.
        UniqueFd pfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (!pfd) continue;  // gone already
        auto again = tasks_of(d);
        if (std::find(again.begin(), again.end(), pid) == again.end()) continue;
        (void)::syscall(SYS_pidfd_send_signal, pfd.get(), SIGKILL, nullptr, 0);
        killed.push_back(Killed{pid, std::move(pfd)});
      }
    }
    std::vector<pid_t> left;
    for (const auto& k : killed) {
      if (!has_exited(k.pidfd.get())) left.push_back(k.pid);
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
  return p.starts_with(mount + "/") && cgroup::clean_path(p) == p;
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

std::string owner_in_environ(std::string_view environ_text) {
  std::string prefix = std::string(kOwnerEnv) + "=";
  size_t start = 0;
  while (start < environ_text.size()) {
    size_t end = environ_text.find('\0', start);
    if (end == std::string_view::npos) end = environ_text.size();
    std::string_view entry = environ_text.substr(start, end - start);
    if (entry.starts_with(prefix)) return std::string(entry.substr(prefix.size()));
    start = end + 1;
  }
  return "";
}

bool ours_to_kill(std::string_view tag, std::string_view owner, bool shared) {
  if (!tag.empty()) return tag == owner;
  return !shared;
}

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

Status Cgroup::remove(bool kill_remaining) {
  Status result;
  for (auto& d : dirs_) {
    KillRule rule{owner_, d.shared};
    if (kill_remaining && d.leaf_joined) {
      if (auto st = kill_joined(where(), d.path, rule); !st && result) result = std::move(st);
      // A leaf that held others' tasks at create: whoever made it may be
      // gone, so the last one out removes it (runc removes it too).
      if (d.shared && result && ::rmdir(d.path.c_str()) != 0 && errno != EBUSY && errno != ENOENT &&
          errno != ENOTEMPTY) {
        result = fail_errno(where() + ": rmdir " + d.path);
      }
    }
    while (!d.created.empty()) {
      const std::string dir = d.created.back();
      auto gone = remove_dir(where(), dir, dir == d.path, kill_remaining, rule);
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
