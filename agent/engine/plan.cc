#include "agent/engine/plan.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <array>
#include <set>

#include "agent/engine/str.h"
#include "common/text.h"

namespace hull::engine {
namespace {

struct NsName {
  std::string_view oci;
  std::string_view proc;
  int flag;
};

// Joined in this order (user first, runc's nsexec order otherwise).
constexpr std::array kNamespaces{
    NsName{"user", "user", CLONE_NEWUSER},       NsName{"ipc", "ipc", CLONE_NEWIPC},
    NsName{"uts", "uts", CLONE_NEWUTS},          NsName{"network", "net", CLONE_NEWNET},
    NsName{"pid", "pid", CLONE_NEWPID},          NsName{"mount", "mnt", CLONE_NEWNS},
    NsName{"cgroup", "cgroup", CLONE_NEWCGROUP}, NsName{"time", "time", CLONE_NEWTIME},
};

bool absolute(const std::string& p) {
  return !p.empty() && p[0] == '/';
}

// oci::kSubmountsKey of a mount: relative paths without "." or ".." parts.
Result<std::vector<std::string>> plan_submounts(const oci::Json& extra, const std::string& field) {
  std::vector<std::string> out;
  auto it = extra.find(oci::kSubmountsKey);
  if (it == extra.end()) return out;
  std::string f = cat(field, ".", oci::kSubmountsKey);
  if (!it->is_array()) return invalid_field(f, "must be an array of relative paths");
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    if (!v.is_string()) return invalid_field(cat(f, "[", i, "]"), "must be a string");
    std::string p = v.get<std::string>();
    bool ok = !p.empty() && p[0] != '/';
    size_t start = 0;
    while (ok && start <= p.size()) {
      size_t end = p.find('/', start);
      if (end == std::string::npos) end = p.size();
      std::string_view part(p.data() + start, end - start);
      ok = !part.empty() && part != "." && part != "..";
      start = end + 1;
    }
    if (!ok)
      return invalid_field(cat(f, "[", i, "]"), cat(quote(p), " is not a plain relative path"));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<int>> plan_caps(const std::optional<std::vector<std::string>>& names,
                                   const std::string& field) {
  std::vector<int> out;
  if (!names) return out;
  for (size_t i = 0; i < names->size(); ++i) {
    auto n = oci::capability_number((*names)[i]);
    if (!n)
      return invalid_field(cat(field, "[", i, "]"), cat("unknown capability ", quote((*names)[i])));
    out.push_back(*n);
  }
  return out;
}

Result<std::vector<IdMap>> plan_idmaps(const std::optional<std::vector<oci::IdMapping>>& maps,
                                       const std::string& field) {
  std::vector<IdMap> out;
  if (!maps) return out;
  for (size_t i = 0; i < maps->size(); ++i) {
    const auto& m = (*maps)[i];
    if (m.size == 0) return invalid_field(cat(field, "[", i, "].size"), "must be greater than 0");
    out.push_back({m.container_id, m.host_id, m.size});
  }
  return out;
}

Result<std::vector<TimeOffset>> plan_time_offsets(const std::optional<oci::Json>& j) {
  std::vector<TimeOffset> out;
  if (!j) return out;
  if (!j->is_object()) return invalid_field("linux.timeOffsets", "must be an object");
  for (const auto& [clock, v] : j->items()) {
    std::string field = cat("linux.timeOffsets.", clock);
    if (clock != "monotonic" && clock != "boottime") return invalid_field(field, "unknown clock");
    if (!v.is_object()) return invalid_field(field, "must be an object");
    TimeOffset t{clock, 0, 0};
    if (v.contains("secs")) {
      if (!v["secs"].is_number_integer())
        return invalid_field(field + ".secs", "must be an integer");
      t.secs = v["secs"].get<int64_t>();
    }
    if (v.contains("nanosecs")) {
      const auto& ns = v["nanosecs"];
      if (!ns.is_number_integer() || ns.get<int64_t>() < 0 || ns.get<int64_t>() >= 1000000000) {
        return invalid_field(field + ".nanosecs", "must be an integer in [0, 999999999]");
      }
      t.nanosecs = v["nanosecs"].get<uint32_t>();
    }
    out.push_back(t);
  }
  return out;
}

Result<mode_t> device_type(const std::string& t, const std::string& field) {
  if (t == "c" || t == "u") return S_IFCHR;
  if (t == "b") return S_IFBLK;
  if (t == "p") return S_IFIFO;
  return invalid_field(field, cat("unknown device type ", quote(t), " (want c, u, b or p)"));
}

template <class T>
Result<T> json_int(const oci::Json& j, const char* key, T lo, T hi, const std::string& field) {
  if (!j.contains(key)) return T{};
  const auto& v = j[key];
  if (!v.is_number_integer()) return invalid_field(cat(field, ".", key), "must be an integer");
  if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(hi)
                             : (v.get<int64_t>() < static_cast<int64_t>(lo) ||
                                (hi >= 0 && v.get<int64_t>() > static_cast<int64_t>(hi)))) {
    return invalid_field(cat(field, ".", key), "out of range");
  }
  return v.get<T>();
}

Result<SchedPlan> plan_scheduler(const oci::Json& j, const std::string& f) {
  static constexpr std::array<std::pair<std::string_view, uint32_t>, 7> kPolicies{{
      {"SCHED_OTHER", 0},
      {"SCHED_FIFO", 1},
      {"SCHED_RR", 2},
      {"SCHED_BATCH", 3},
      {"SCHED_ISO", 4},
      {"SCHED_IDLE", 5},
      {"SCHED_DEADLINE", 6},
  }};
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 7> kFlags{{
      {"SCHED_FLAG_RESET_ON_FORK", 0x01},
      {"SCHED_FLAG_RECLAIM", 0x02},
      {"SCHED_FLAG_DL_OVERRUN", 0x04},
      {"SCHED_FLAG_KEEP_POLICY", 0x08},
      {"SCHED_FLAG_KEEP_PARAMS", 0x10},
      {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
      {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
  }};
  if (!j.is_object()) return invalid_field(f, "must be an object");
  if (!j.contains("policy") || !j["policy"].is_string())
    return invalid_field(f + ".policy", "is required");
  SchedPlan out;
  std::string policy = j["policy"].get<std::string>();
  bool known = false;
  for (const auto& [name, v] : kPolicies) {
    if (name == policy) {
      out.policy = v;
      known = true;
    }
  }
  if (!known) return invalid_field(f + ".policy", cat("unknown policy ", quote(policy)));
  HULL_ASSIGN(nice, json_int<int32_t>(j, "nice", -20, 19, f));
  HULL_ASSIGN(prio, json_int<uint32_t>(j, "priority", 0, 99, f));
  HULL_ASSIGN(runtime, json_int<uint64_t>(j, "runtime", 0, UINT64_MAX, f));
  HULL_ASSIGN(deadline, json_int<uint64_t>(j, "deadline", 0, UINT64_MAX, f));
  HULL_ASSIGN(period, json_int<uint64_t>(j, "period", 0, UINT64_MAX, f));
  out.nice = nice;
  out.priority = prio;
  out.runtime = runtime;
  out.deadline = deadline;
  out.period = period;
  if (j.contains("flags")) {
    if (!j["flags"].is_array()) return invalid_field(f + ".flags", "must be an array");
    for (size_t i = 0; i < j["flags"].size(); ++i) {
      const auto& fl = j["flags"][i];
      std::string name = fl.is_string() ? fl.get<std::string>() : "";
      uint64_t bit = 0;
      for (const auto& [n, v] : kFlags) {
        if (n == name) bit = v;
      }
      if (!bit) return invalid_field(cat(f, ".flags[", i, "]"), cat("unknown flag ", quote(name)));
      out.flags |= bit;
    }
  }
  return out;
}

Result<int> plan_io_priority(const oci::Json& j, const std::string& f) {
  if (!j.is_object()) return invalid_field(f, "must be an object");
  if (!j.contains("class") || !j["class"].is_string())
    return invalid_field(f + ".class", "is required");
  std::string c = j["class"].get<std::string>();
  int cls = c == "IOPRIO_CLASS_RT"     ? 1
            : c == "IOPRIO_CLASS_BE"   ? 2
            : c == "IOPRIO_CLASS_IDLE" ? 3
                                       : 0;
  if (!cls) return invalid_field(f + ".class", cat("unknown class ", quote(c)));
  HULL_ASSIGN(prio, json_int<int>(j, "priority", 0, 7, f));
  return cls << 13 | prio;  // IOPRIO_PRIO_VALUE
}

}  // namespace

int namespace_flag(std::string_view type) {
  for (const auto& n : kNamespaces) {
    if (n.oci == type) return n.flag;
  }
  return 0;
}

std::string_view namespace_proc_name(int flag) {
  for (const auto& n : kNamespaces) {
    if (n.flag == flag) return n.proc;
  }
  return "";
}

bool ContainerPlan::has_namespace(int flag) const {
  return find_namespace(flag) != nullptr;
}

const NamespacePlan* ContainerPlan::find_namespace(int flag) const {
  for (const auto& n : namespaces) {
    if (n.flag == flag) return &n;
  }
  return nullptr;
}

bool ContainerPlan::creates_userns() const {
  const auto* n = find_namespace(CLONE_NEWUSER);
  return n && !n->path;
}

Result<ProcessPlan> plan_process(const oci::Process& p, std::string_view field_prefix) {
  const std::string f(field_prefix);
  ProcessPlan out;
  if (!p.args || p.args->empty()) return invalid_field(f + ".args", "must name the program to run");
  out.args = *p.args;
  if (out.args[0].empty()) return invalid_field(f + ".args[0]", "must not be empty");
  if (p.env) out.env = *p.env;
  for (size_t i = 0; i < out.env.size(); ++i) {
    if (out.env[i].find('=') == std::string::npos) {
      return invalid_field(cat(f, ".env[", i, "]"),
                           cat("not of the form KEY=VALUE: ", quote(out.env[i])));
    }
  }
  if (!absolute(p.cwd))
    return invalid_field(f + ".cwd", cat("must be an absolute path, got ", quote(p.cwd)));
  out.cwd = p.cwd;
  out.uid = p.user.uid;
  out.gid = p.user.gid;
  if (p.user.additional_gids)
    out.additional_gids.assign(p.user.additional_gids->begin(), p.user.additional_gids->end());
  if (p.user.umask) {
    if (*p.user.umask > 0777) return invalid_field(f + ".user.umask", "must be at most 0777");
    out.umask = static_cast<mode_t>(*p.user.umask);
  }
  if (p.rlimits) {
    std::set<int> seen;
    for (size_t i = 0; i < p.rlimits->size(); ++i) {
      const auto& r = (*p.rlimits)[i];
      std::string rf = cat(f, ".rlimits[", i, "]");
      auto n = oci::rlimit_number(r.type);
      if (!n) return invalid_field(rf + ".type", cat("unknown rlimit ", quote(r.type)));
      if (!seen.insert(*n).second)
        return invalid_field(rf + ".type", cat("duplicate rlimit ", quote(r.type)));
      if (r.soft > r.hard) return invalid_field(rf, "soft limit is greater than the hard limit");
      out.rlimits.push_back({*n, r.soft, r.hard, rf});
    }
  }
  if (p.oom_score_adj) {
    if (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000) {
      return invalid_field(f + ".oomScoreAdj", "must be in [-1000, 1000]");
    }
    out.oom_score_adj = *p.oom_score_adj;
  }
  if (p.scheduler) {
    HULL_ASSIGN(sched, plan_scheduler(*p.scheduler, f + ".scheduler"));
    out.scheduler = sched;
  }
  if (p.io_priority) {
    HULL_ASSIGN(io, plan_io_priority(*p.io_priority, f + ".ioPriority"));
    out.io_priority = io;
  }
  out.no_new_privileges = p.no_new_privileges.value_or(false);
  if (p.capabilities) {
    const auto& c = *p.capabilities;
    CapSets caps;
    HULL_ASSIGN(b, plan_caps(c.bounding, f + ".capabilities.bounding"));
    HULL_ASSIGN(e, plan_caps(c.effective, f + ".capabilities.effective"));
    HULL_ASSIGN(i, plan_caps(c.inheritable, f + ".capabilities.inheritable"));
    HULL_ASSIGN(pm, plan_caps(c.permitted, f + ".capabilities.permitted"));
    HULL_ASSIGN(a, plan_caps(c.ambient, f + ".capabilities.ambient"));
    caps.bounding = std::move(b);
    caps.effective = std::move(e);
    caps.inheritable = std::move(i);
    caps.permitted = std::move(pm);
    caps.ambient = std::move(a);
    out.caps = std::move(caps);
  }
  out.terminal = p.terminal.value_or(false);
  if (p.console_size) {
    if (p.console_size->height > 0xffff || p.console_size->width > 0xffff) {
      return invalid_field(f + ".consoleSize", "height and width must be at most 65535");
    }
    out.console_rows = static_cast<uint16_t>(p.console_size->height);
    out.console_cols = static_cast<uint16_t>(p.console_size->width);
  }
  return out;
}

Result<ContainerPlan> plan_container(const oci::Spec& spec) {
  ContainerPlan out;
  if (!spec.process) return invalid_field("process", "is required to create a container");
  HULL_ASSIGN(proc, plan_process(*spec.process, "process"));
  out.process = std::move(proc);
  out.root_readonly = spec.root && spec.root->readonly.value_or(false);
  out.hostname = spec.hostname;
  out.domainname = spec.domainname;

  if (spec.linux) {
    const auto& l = *spec.linux;
    if (l.namespaces) {
      std::set<int> seen;
      for (size_t i = 0; i < l.namespaces->size(); ++i) {
        const auto& n = (*l.namespaces)[i];
        std::string nf = cat("linux.namespaces[", i, "]");
        int flag = namespace_flag(n.type);
        if (!flag)
          return invalid_field(nf + ".type", cat("unknown namespace type ", quote(n.type)));
        if (!seen.insert(flag).second)
          return invalid_field(nf + ".type", cat("duplicate namespace ", quote(n.type)));
        if (n.path && !absolute(*n.path))
          return invalid_field(nf + ".path", "must be an absolute path");
        out.namespaces.push_back(
            {flag, n.type, n.path && !n.path->empty() ? n.path : std::nullopt});
      }
      // Keep the join order of kNamespaces (user first).
      std::vector<NamespacePlan> sorted;
      for (const auto& k : kNamespaces) {
        for (auto& n : out.namespaces) {
          if (n.flag == k.flag) sorted.push_back(std::move(n));
        }
      }
      out.namespaces = std::move(sorted);
    }
    HULL_ASSIGN(um, plan_idmaps(l.uid_mappings, "linux.uidMappings"));
    HULL_ASSIGN(gm, plan_idmaps(l.gid_mappings, "linux.gidMappings"));
    out.uid_mappings = std::move(um);
    out.gid_mappings = std::move(gm);
    if (out.creates_userns() && (out.uid_mappings.empty() || out.gid_mappings.empty())) {
      return invalid_field("linux.uidMappings",
                           "a new user namespace needs uidMappings and gidMappings");
    }
    if (!out.has_namespace(CLONE_NEWUSER) &&
        (!out.uid_mappings.empty() || !out.gid_mappings.empty())) {
      return invalid_field("linux.uidMappings", "mappings given without a user namespace");
    }
    HULL_ASSIGN(to, plan_time_offsets(l.time_offsets));
    out.time_offsets = std::move(to);
    if (!out.time_offsets.empty() &&
        !(out.has_namespace(CLONE_NEWTIME) && !out.find_namespace(CLONE_NEWTIME)->path)) {
      return invalid_field("linux.timeOffsets", "needs a new time namespace");
    }
    if (l.rootfs_propagation && !l.rootfs_propagation->empty()) {
      unsigned long p = propagation_flag(*l.rootfs_propagation);
      if (!p)
        return invalid_field("linux.rootfsPropagation",
                             cat("unknown propagation ", quote(*l.rootfs_propagation)));
      out.rootfs_propagation = p;
    }
    if (l.devices) {
      for (size_t i = 0; i < l.devices->size(); ++i) {
        const auto& d = (*l.devices)[i];
        std::string df = cat("linux.devices[", i, "]");
        HULL_ASSIGN(type, device_type(d.type, df + ".type"));
        if (!absolute(d.path)) return invalid_field(df + ".path", "must be an absolute path");
        if (type != S_IFIFO &&
            (d.major < 0 || d.major > 0xfff || d.minor < 0 || d.minor > 0xfffff)) {
          return invalid_field(df, "major or minor number out of range");
        }
        mode_t perm = d.file_mode.value_or(0666);
        if (perm > 07777) return invalid_field(df + ".fileMode", "must be at most 07777");
        out.devices.push_back({df, d.path, type | perm,
                               type == S_IFIFO ? 0
                                               : makedev(static_cast<unsigned>(d.major),
                                                         static_cast<unsigned>(d.minor)),
                               d.uid.value_or(0), d.gid.value_or(0)});
      }
    }
    if (l.masked_paths) out.masked_paths = *l.masked_paths;
    if (l.readonly_paths) out.readonly_paths = *l.readonly_paths;
    for (size_t i = 0; i < out.masked_paths.size(); ++i) {
      if (!absolute(out.masked_paths[i]))
        return invalid_field(cat("linux.maskedPaths[", i, "]"), "must be an absolute path");
    }
    for (size_t i = 0; i < out.readonly_paths.size(); ++i) {
      if (!absolute(out.readonly_paths[i]))
        return invalid_field(cat("linux.readonlyPaths[", i, "]"), "must be an absolute path");
    }
    if (l.personality) {
      const auto& pe = *l.personality;
      if (pe.domain == "LINUX") {
        out.personality = 0x0000;  // PER_LINUX
      } else if (pe.domain == "LINUX32") {
        out.personality = 0x0008;  // PER_LINUX32
      } else {
        return invalid_field("linux.personality.domain",
                             cat("unknown domain ", quote(pe.domain), " (want LINUX or LINUX32)"));
      }
      if (pe.flags && !pe.flags->empty()) {
        return fail(Errc::Unsupported,
                    "linux.personality.flags: personality flags are not supported (as in runc)");
      }
    }
    if (l.sysctl) {
      for (const auto& [k, v] : *l.sysctl) {
        if (k.empty() || k.find("..") != std::string::npos || k.find('/') != std::string::npos) {
          return invalid_field(cat("linux.sysctl.", k), "not a sysctl name");
        }
        out.sysctl[k] = v;
      }
    }
  }
  if ((out.hostname || out.domainname) && !out.has_namespace(CLONE_NEWUTS)) {
    return invalid_field(out.hostname ? "hostname" : "domainname", "needs a new UTS namespace");
  }
  if (!out.has_namespace(CLONE_NEWNS) && (spec.mounts && !spec.mounts->empty())) {
    // The container pivots into its rootfs: in the agent's mount namespace
    // that would take the agent's root away (hull's runc mode adds one).
    return invalid_field("mounts",
                         "need a new mount namespace: add {\"type\": \"mount\"} to "
                         "linux.namespaces");
  }

  if (spec.mounts) {
    for (size_t i = 0; i < spec.mounts->size(); ++i) {
      const auto& m = (*spec.mounts)[i];
      MountPlan mp;
      mp.field = cat("mounts[", i, "]");
      if (!absolute(m.destination))
        return invalid_field(mp.field + ".destination", "must be an absolute path");
      mp.destination = m.destination;
      mp.type = m.type.value_or("");
      mp.source = m.source.value_or("");
      static const std::vector<std::string> kNone;
      HULL_ASSIGN(opts, parse_mount_options(m.options ? *m.options : kNone, mp.field + ".options"));
      mp.opts = std::move(opts);
      if (mp.type == "bind") mp.opts.flags |= MS_BIND;
      if (mp.opts.is_bind()) mp.type.clear();
      if (mp.type == "cgroup") mp.type = "cgroup2";
      if (!mp.opts.is_bind() && mp.type.empty()) {
        return invalid_field(mp.field + ".type",
                             "is required unless the options say bind or rbind");
      }
      if (mp.opts.is_bind() && mp.source.empty())
        return invalid_field(mp.field + ".source", "is required for a bind mount");
      if (mp.opts.is_bind()) {
        HULL_ASSIGN(subs, plan_submounts(m.extra, mp.field));
        mp.submounts = std::move(subs);
      }
      if (m.uid_mappings || m.gid_mappings) {
        return fail(Errc::Unsupported,
                    cat(mp.field, ": idmapped mounts are not supported by hull"));
      }
      out.mounts.push_back(std::move(mp));
    }
  }
  return out;
}

}  // namespace hull::engine
