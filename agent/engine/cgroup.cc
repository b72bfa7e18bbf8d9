#include "agent/engine/cgroup.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <sstream>
#include <thread>
#include <utility>

#include "agent/engine/fs_util.h"
#include "agent/engine/str.h"
#include "common/cgroup/resources.h"
#include "common/cgroup/stats.h"
#include "common/file.h"

namespace hull::engine {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxCgroupFile = 1 << 20;
constexpr auto kPollInterval = std::chrono::milliseconds(10);

std::string join(const std::string& root, const std::string& rel) {
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return rel.empty() || rel == "/" ? r : r + (rel[0] == '/' ? "" : "/") + rel;
}

}  // namespace

Result<Cgroup> Cgroup::create(const std::string& root, const std::string& rel) {
  std::string cur = join(root, "");
  std::stringstream ss(rel);
  std::string comp;
  while (std::getline(ss, comp, '/')) {
    if (comp.empty()) continue;
    // Offer the child every controller this level has.
    auto controllers = read_file(cur + "/cgroup.controllers", kMaxCgroupFile);
    if (controllers) {
      std::stringstream cs(*controllers);
      std::string c, enable;
      while (cs >> c) enable += (enable.empty() ? "+" : " +") + c;
      if (!enable.empty()) {
        auto r = write_kernel_file(cur + "/cgroup.subtree_control", enable);
        if (!r) return fail(std::move(r.error()).wrap("enable cgroup controllers"));
      }
    }
    cur += "/" + comp;
    if (::mkdir(cur.c_str(), 0755) < 0 && errno != EEXIST)
      return fail_errno(cat("linux.cgroupsPath: mkdir ", cur));
  }
  return Cgroup(cur);
}

Cgroup Cgroup::open(const std::string& root, const std::string& rel) {
  return Cgroup(join(root, rel));
}

Status Cgroup::write(const std::string& file, std::string_view value) const {
  return write_kernel_file(path_ + "/" + file, value);
}

Result<std::string> Cgroup::read(const std::string& file) const {
  return read_file(path_ + "/" + file, kMaxCgroupFile);
}

Status Cgroup::apply(const oci::Resources& r) {
  HULL_ASSIGN(writes, cgroup::writes(r));
  for (const auto& w : writes) {
    auto st = write(w.file, w.value);
    if (!st) {
      // Swap accounting may be off in the kernel: "max" or "0" then mean nothing to do (runc).
      if (w.file == "memory.swap.max" && st.error().sys_errno == ENOENT &&
          (w.value == "max" || w.value == "0")) {
        continue;
      }
      return fail(std::move(st.error()).wrap(w.field));
    }
  }
  return {};
}

Status Cgroup::update(const oci::Resources& r) {
  if (r.memory && r.memory->check_before_update.value_or(false) && r.memory->limit &&
      *r.memory->limit > 0) {
    auto cur = read("memory.current");
    if (cur) {
      auto v = cgroup::parse_single_value(*cur);
      if (v && *v && **v > static_cast<uint64_t>(*r.memory->limit)) {
        return fail(Errc::Invalid, cat("linux.resources.memory.limit: ", *r.memory->limit,
                                       " is below the current usage of ", **v, " bytes"));
      }
    }
  }
  // cpu.max holds quota and period: the half not given stays as it is.
  if (r.cpu && (r.cpu->quota.value_or(0) != 0) != (r.cpu->period.value_or(0) != 0)) {
    HULL_ASSIGN(current, read("cpu.max"));
    HULL_ASSIGN(cpu, wrap(cgroup::keep_cpu_max_half(*r.cpu, current), path_));
    oci::Resources merged = r;
    merged.cpu = std::move(cpu);
    return apply(merged);
  }
  return apply(r);
}

Status Cgroup::set_devices(const std::vector<DeviceRule>& rules) {
  HULL_ASSIGN(policy, reduce_device_rules(rules));
  struct statfs fs {};
  if (::statfs(path_.c_str(), &fs) < 0) return fail_errno(cat("statfs ", path_));
  if (fs.f_type != CGROUP2_SUPER_MAGIC) return {};
  HULL_ASSIGN(next, DeviceFilter::attach(path_, device_program(policy)));
  DeviceFilter old = std::exchange(devices_, std::move(next));
  return old.detach();
}

Status Cgroup::add_pid(pid_t pid) {
  // EINVAL can mean the task is still being created (TASK_NEW): retry a little, as runc does.
  for (int i = 0;; ++i) {
    auto st = write("cgroup.procs", std::to_string(pid));
    if (st || st.error().sys_errno != EINVAL || i == 5) {
      if (!st) return fail(std::move(st.error()).wrap(cat("join cgroup ", path_)));
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
}

Result<std::vector<pid_t>> Cgroup::pids() const {
  HULL_ASSIGN(text, read("cgroup.procs"));
  return wrap(cgroup::parse_procs(text), path_ + "/cgroup.procs");
}

Result<CgroupStats> Cgroup::stats() const {
  CgroupStats s;
  auto keyed = [&](const std::string& file, std::map<std::string, uint64_t>& into) -> Status {
    auto text = read(file);
    if (!text) return {};
    auto m = cgroup::parse_flat_keyed(*text);
    if (!m) return fail(std::move(m.error()).wrap(path_ + "/" + file));
    into = std::move(*m);
    return {};
  };
  auto single = [&](const std::string& file, std::optional<uint64_t>& into) -> Status {
    auto text = read(file);
    if (!text) return {};
    auto v = cgroup::parse_single_value(*text);
    if (!v) return fail(std::move(v.error()).wrap(path_ + "/" + file));
    into = *v;
    return {};
  };
  HULL_TRY(keyed("cpu.stat", s.cpu));
  HULL_TRY(keyed("memory.stat", s.memory));
  HULL_TRY(keyed("memory.events", s.memory_events));
  std::optional<uint64_t> v;
  HULL_TRY(single("memory.current", v));
  s.memory_current = v.value_or(0);
  v.reset();
  HULL_TRY(single("memory.swap.current", v));
  s.swap_current = v.value_or(0);
  HULL_TRY(single("memory.max", s.memory_max));
  v.reset();
  HULL_TRY(single("pids.current", v));
  s.pids_current = v.value_or(0);
  HULL_TRY(single("pids.max", s.pids_max));
  if (auto text = read("io.stat")) {
    auto io = cgroup::parse_io_stat(*text);
    if (!io) return fail(std::move(io.error()).wrap(path_ + "/io.stat"));
    s.io = std::move(*io);
  }
  return s;
}

Result<std::map<std::string, uint64_t>> Cgroup::events() const {
  HULL_ASSIGN(text, read("cgroup.events"));
  return cgroup::parse_flat_keyed(text);
}

Status Cgroup::set_frozen(bool frozen, std::chrono::milliseconds timeout) {
  HULL_TRY(write("cgroup.freeze", frozen ? "1" : "0"));
  auto until = Clock::now() + timeout;
  while (true) {
    HULL_ASSIGN(ev, events());
    auto it = ev.find("frozen");
    if (it != ev.end() && it->second == (frozen ? 1u : 0u)) return {};
    if (Clock::now() >= until) {
      return fail(Errc::Timeout,
                  cat(path_, ": cgroup did not become ", frozen ? "frozen" : "thawed"));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status Cgroup::freeze(std::chrono::milliseconds timeout) {
  return set_frozen(true, timeout);
}
Status Cgroup::thaw(std::chrono::milliseconds timeout) {
  return set_frozen(false, timeout);
}

Status Cgroup::signal_all(int sig) {
  HULL_ASSIGN(list, pids());
  for (pid_t p : list) {
    if (::kill(p, sig) < 0 && errno != ESRCH) return fail_errno(cat("kill ", p));
  }
  return {};
}

Status Cgroup::kill_all(int sig) {
  if (sig == SIGKILL && ::access((path_ + "/cgroup.kill").c_str(), F_OK) == 0)
    return write("cgroup.kill", "1");
  // A frozen task does not act on signals until thawed; SIGKILL still works.
  return signal_all(sig);
}

Status Cgroup::wait_empty(std::chrono::milliseconds timeout) const {
  auto until = Clock::now() + timeout;
  while (true) {
    auto ev = events();
    if (!ev) {
      if (ev.error().sys_errno == ENOENT) return {};
      return fail(std::move(ev.error()));
    }
    auto it = ev->find("populated");
    if (it == ev->end() || it->second == 0) return {};
    if (Clock::now() >= until) return fail(Errc::Timeout, cat(path_, ": processes still running"));
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status Cgroup::remove(std::chrono::milliseconds timeout) {
  // Best effort: removing the cgroup releases its programs all the same.
  (void)devices_.detach();
  auto until = Clock::now() + timeout;
  while (true) {
    auto st = remove_tree(path_, TreeFiles::Keep);
    if (st || st.error().sys_errno != EBUSY || Clock::now() >= until) return st;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace hull::engine
