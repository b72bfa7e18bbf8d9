// The semantic rules of a config.json, after parse_spec has checked types.
// Reference: the checks runc makes when it validates and converts a spec, plus
// the MUSTs of the OCI runtime spec (config, Linux config) that runc enforces
// elsewhere (hook timeouts, seccomp names). Every error names the JSON path
// and the rule.
#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <span>
#include <string>

#include "common/oci/spec.h"
#include "common/text.h"

namespace hull::oci {
namespace {

constexpr std::array<std::string_view, 41> kCapabilities = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

// Index = Linux resource number (asm-generic/resource.h).
constexpr std::array<std::string_view, 16> kRlimits = {
    "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
    "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

constexpr std::array<std::string_view, 8> kNamespaces = {
    "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};

constexpr std::array<std::string_view, 9> kSeccompActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

constexpr std::array<std::string_view, 7> kSeccompOps = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

constexpr std::array<std::string_view, 20> kSeccompArchs = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
};

constexpr std::array<std::string_view, 4> kSeccompFlags = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

constexpr std::array<std::string_view, 8> kPropagations = {
    "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
};

// sysctls the IPC namespace isolates (the list runc checks against).
constexpr std::array<std::string_view, 8> kIpcSysctls = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

template <size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

template <size_t N>
std::string list(const std::array<std::string_view, N>& set) {
  std::string out;
  for (auto s : set) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string at(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

bool is_abs(const std::string& p) {
  return !p.empty() && p.front() == '/';
}

bool has_namespace(const Spec& s, std::string_view type) {
  if (!s.linux || !s.linux->namespaces) return false;
  for (const auto& ns : *s.linux->namespaces) {
    if (ns.type == type) return true;
  }
  return false;
}

const Namespace* find_namespace(const Spec& s, std::string_view type) {
  if (!s.linux || !s.linux->namespaces) return nullptr;
  for (const auto& ns : *s.linux->namespaces) {
    if (ns.type == type) return &ns;
  }
  return nullptr;
}

// MAJOR.MINOR.PATCH[-pre][+build] with MAJOR == 1.
bool is_oci_1x(std::string_view v) {
  auto end = v.find_first_of("-+");
  std::string_view core = v.substr(0, end);
  if (end != std::string_view::npos && end + 1 >= v.size()) return false;
  int parts = 0;
  size_t i = 0;
  while (i <= core.size()) {
    size_t dot = core.find('.', i);
    if (dot == std::string_view::npos) dot = core.size();
    std::string_view num = core.substr(i, dot - i);
    if (num.empty() || num.size() > 9) return false;
    if (num.size() > 1 && num[0] == '0') return false;
    for (char c : num) {
      if (c < '0' || c > '9') return false;
    }
    if (parts == 0 && num != "1") return false;
    ++parts;
    i = dot + 1;
  }
  return parts == 3;
}

bool is_sysctl_key(std::string_view k) {
  if (k.empty() || k.size() > 256) return false;
  bool part_empty = true;
  for (char c : k) {
    if (c == '.' || c == '/') {
      if (part_empty) return false;
      part_empty = true;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
    part_empty = false;
  }
  return !part_empty;
}

Status check_process(const Spec& s) {
  if (!s.process) return invalid_field("process", "must be present");
  const Process& p = *s.process;
  if (!p.args || p.args->empty()) return invalid_field("process.args", "must be a non-empty array");
  if (!is_abs(p.cwd)) return invalid_field("process.cwd", "must be an absolute path");
  if (p.capabilities) {
    const Capabilities& c = *p.capabilities;
    const std::pair<const char*, const std::optional<std::vector<std::string>>*> sets[] = {
        {"bounding", &c.bounding},   {"effective", &c.effective}, {"inheritable", &c.inheritable},
        {"permitted", &c.permitted}, {"ambient", &c.ambient},
    };
    for (const auto& [name, set] : sets) {
      if (!*set) continue;
      for (size_t i = 0; i < (*set)->size(); ++i) {
        const std::string& cap = (**set)[i];
        if (!capability_number(cap)) {
          return invalid_field(at(std::string("process.capabilities.") + name, i),
                               "unknown capability " + quote(cap));
        }
      }
    }
  }
  if (p.rlimits) {
    std::set<std::string> seen;
    for (size_t i = 0; i < p.rlimits->size(); ++i) {
      const Rlimit& r = (*p.rlimits)[i];
      std::string path = at("process.rlimits", i);
      if (!rlimit_number(r.type)) {
        return invalid_field(path + ".type", "unknown rlimit " + quote(r.type));
      }
      if (!seen.insert(r.type).second) {
        return invalid_field(path + ".type", "duplicate rlimit " + quote(r.type));
      }
      if (r.soft > r.hard) return invalid_field(path + ".soft", "must not be greater than hard");
    }
  }
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
    return invalid_field("process.oomScoreAdj", "must be between -1000 and 1000");
  }
  return {};
}

Status check_mounts(const Spec& s) {
  if (!s.mounts) return {};
  for (size_t i = 0; i < s.mounts->size(); ++i) {
    const Mount& m = (*s.mounts)[i];
    std::string path = at("mounts", i);
    if (!is_abs(m.destination))
      return invalid_field(path + ".destination", "must be an absolute path");
    if (m.uid_mappings.has_value() != m.gid_mappings.has_value()) {
      return invalid_field(path, "uidMappings and gidMappings must be given together");
    }
  }
  return {};
}

Status check_hooks(const Spec& s) {
  if (!s.hooks) return {};
  const Hooks& h = *s.hooks;
  const std::pair<const char*, const std::optional<std::vector<Hook>>*> kinds[] = {
      {"prestart", &h.prestart},
      {"createRuntime", &h.create_runtime},
      {"createContainer", &h.create_container},
      {"startContainer", &h.start_container},
      {"poststart", &h.poststart},
      {"poststop", &h.poststop},
  };
  for (const auto& [name, hooks] : kinds) {
    if (!*hooks) continue;
    for (size_t i = 0; i < (*hooks)->size(); ++i) {
      const Hook& hook = (**hooks)[i];
      std::string path = at(std::string("hooks.") + name, i);
      if (!is_abs(hook.path)) return invalid_field(path + ".path", "must be an absolute path");
      if (hook.timeout && *hook.timeout <= 0) {
        return invalid_field(path + ".timeout", "must be greater than zero");
      }
    }
  }
  return {};
}

Status check_namespaces(const Spec& s) {
  if (!s.linux || !s.linux->namespaces) return {};
  std::set<std::string> seen;
  const auto& nss = *s.linux->namespaces;
  for (size_t i = 0; i < nss.size(); ++i) {
    const Namespace& ns = nss[i];
    std::string path = at("linux.namespaces", i);
    if (!one_of(kNamespaces, ns.type)) {
      return invalid_field(path + ".type", "unknown namespace " + quote(ns.type) +
                                               " (known: " + list(kNamespaces) + ")");
    }
    if (!seen.insert(ns.type).second) {
      return invalid_field(path + ".type", "duplicate namespace " + quote(ns.type));
    }
    // Every Linux namespace type can be joined with setns(2); the path must
    // name one (/proc/<pid>/ns/<type> or a bind mount of it).
    if (ns.path && !is_abs(*ns.path))
      return invalid_field(path + ".path", "must be an absolute path");
  }
  return {};
}

Status check_id_mappings(const Spec& s) {
  const Linux& l = *s.linux;
  const Namespace* user = find_namespace(s, "user");
  bool mapped = l.uid_mappings || l.gid_mappings;
  if (mapped && !user) {
    return invalid_field(l.uid_mappings ? "linux.uidMappings" : "linux.gidMappings",
                         "needs a user namespace in linux.namespaces");
  }
  if (user && !user->path) {
    if (!l.uid_mappings || l.uid_mappings->empty()) {
      return invalid_field("linux.uidMappings", "a new user namespace needs uid mappings");
    }
    if (!l.gid_mappings || l.gid_mappings->empty()) {
      return invalid_field("linux.gidMappings", "a new user namespace needs gid mappings");
    }
  }
  return {};
}

Status check_devices(const Spec& s) {
  const Linux& l = *s.linux;
  if (l.devices) {
    for (size_t i = 0; i < l.devices->size(); ++i) {
      const Device& d = (*l.devices)[i];
      std::string path = at("linux.devices", i);
      if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p") {
        return invalid_field(path + ".type", "must be one of c, b, u, p");
      }
      if (!is_abs(d.path)) return invalid_field(path + ".path", "must be an absolute path");
    }
  }
  if (l.resources && l.resources->devices) {
    const auto& rules = *l.resources->devices;
    for (size_t i = 0; i < rules.size(); ++i) {
      const DeviceCgroup& r = rules[i];
      std::string path = at("linux.resources.devices", i);
      if (r.type && *r.type != "a" && *r.type != "c" && *r.type != "b") {
        return invalid_field(path + ".type", "must be one of a, c, b");
      }
      if (r.access && r.access->find_first_not_of("rwm") != std::string::npos) {
        return invalid_field(path + ".access", "must be made of the letters r, w, m");
      }
    }
  }
  return {};
}

Status check_sysctl(const Spec& s) {
  const Linux& l = *s.linux;
  if (!l.sysctl) return {};
  for (const auto& [key, value] : *l.sysctl) {
    std::string path = "linux.sysctl[" + quote(key) + "]";
    if (!is_sysctl_key(key)) return invalid_field(path, "is not a well-formed sysctl name");
    std::string k = key;
    std::replace(k.begin(), k.end(), '/', '.');
    bool ipc = one_of(kIpcSysctls, k) || k.starts_with("fs.mqueue.");
    if (ipc) {
      if (!has_namespace(s, "ipc")) return invalid_field(path, "needs an ipc namespace");
    } else if (k.starts_with("net.")) {
      if (!has_namespace(s, "network")) return invalid_field(path, "needs a network namespace");
    } else if (k == "kernel.hostname" || k == "kernel.domainname") {
      if (!has_namespace(s, "uts")) return invalid_field(path, "needs a uts namespace");
    } else {
      return invalid_field(path, "is not isolated by any namespace the container can have");
    }
  }
  return {};
}

Status check_seccomp(const Seccomp& sc) {
  const std::string base = "linux.seccomp";
  bool notify = sc.default_action == "SCMP_ACT_NOTIFY";
  if (!one_of(kSeccompActions, sc.default_action)) {
    return invalid_field(base + ".defaultAction", "unknown action " + quote(sc.default_action) +
                                                      " (known: " + list(kSeccompActions) + ")");
  }
  if (notify)
    return invalid_field(base + ".defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
  if (sc.architectures) {
    for (size_t i = 0; i < sc.architectures->size(); ++i) {
      const std::string& a = (*sc.architectures)[i];
      if (!one_of(kSeccompArchs, a)) {
        return invalid_field(at(base + ".architectures", i), "unknown architecture " + quote(a));
      }
    }
  }
  if (sc.flags) {
    for (size_t i = 0; i < sc.flags->size(); ++i) {
      const std::string& f = (*sc.flags)[i];
      if (!one_of(kSeccompFlags, f)) {
        return invalid_field(at(base + ".flags", i), "unknown flag " + quote(f));
      }
    }
  }
  if (sc.syscalls) {
    for (size_t i = 0; i < sc.syscalls->size(); ++i) {
      const Syscall& rule = (*sc.syscalls)[i];
      std::string path = at(base + ".syscalls", i);
      if (rule.names.empty()) return invalid_field(path + ".names", "must be a non-empty array");
      for (size_t n = 0; n < rule.names.size(); ++n) {
        if (rule.names[n].empty())
          return invalid_field(at(path + ".names", n), "must not be empty");
      }
      if (!one_of(kSeccompActions, rule.action)) {
        return invalid_field(path + ".action", "unknown action " + quote(rule.action));
      }
      notify = notify || rule.action == "SCMP_ACT_NOTIFY";
      if (!rule.args) continue;
      for (size_t a = 0; a < rule.args->size(); ++a) {
        const SeccompArg& arg = (*rule.args)[a];
        std::string apath = at(path + ".args", a);
        if (arg.index >= 6) return invalid_field(apath + ".index", "must be less than 6");
        if (!one_of(kSeccompOps, arg.op)) {
          return invalid_field(apath + ".op", "unknown operator " + quote(arg.op) +
                                                  " (known: " + list(kSeccompOps) + ")");
        }
      }
    }
  }
  if (notify && sc.listener_path.value_or("").empty()) {
    return invalid_field(base + ".listenerPath", "SCMP_ACT_NOTIFY needs a listener path");
  }
  return {};
}

Status check_linux(const Spec& s) {
  if (!s.linux) return {};
  const Linux& l = *s.linux;
  HULL_TRY(check_namespaces(s));
  HULL_TRY(check_id_mappings(s));
  HULL_TRY(check_devices(s));
  HULL_TRY(check_sysctl(s));
  if (l.seccomp) HULL_TRY(check_seccomp(*l.seccomp));
  if (l.rootfs_propagation && !one_of(kPropagations, *l.rootfs_propagation)) {
    return invalid_field("linux.rootfsPropagation", "must be one of " + list(kPropagations));
  }
  bool restricts = (l.masked_paths && !l.masked_paths->empty()) ||
                   (l.readonly_paths && !l.readonly_paths->empty());
  if (restricts && !has_namespace(s, "mount")) {
    return invalid_field(
        l.masked_paths && !l.masked_paths->empty() ? "linux.maskedPaths" : "linux.readonlyPaths",
        "needs a mount namespace");
  }
  if (l.personality && l.personality->domain != "LINUX" && l.personality->domain != "LINUX32") {
    return invalid_field("linux.personality.domain", "must be LINUX or LINUX32");
  }
  return {};
}

Status check_spec(const Spec& s) {
  if (s.oci_version.empty()) return invalid_field("ociVersion", "must be present");
  if (!is_oci_1x(s.oci_version)) {
    return invalid_field("ociVersion",
                         "must be a 1.x semantic version, not " + quote(s.oci_version));
  }
  if (!s.root) return invalid_field("root", "must be present");
  if (s.root->path.empty()) return invalid_field("root.path", "must be a non-empty string");
  HULL_TRY(check_process(s));
  HULL_TRY(check_mounts(s));
  HULL_TRY(check_hooks(s));
  if (s.hostname && !s.hostname->empty() && !has_namespace(s, "uts")) {
    return invalid_field("hostname", "needs a uts namespace in linux.namespaces");
  }
  if (s.domainname && !s.domainname->empty() && !has_namespace(s, "uts")) {
    return invalid_field("domainname", "needs a uts namespace in linux.namespaces");
  }
  return check_linux(s);
}

}  // namespace

std::span<const std::string_view> capability_names() {
  return kCapabilities;
}

std::optional<int> capability_number(std::string_view name) {
  auto it = std::find(kCapabilities.begin(), kCapabilities.end(), name);
  if (it == kCapabilities.end()) return std::nullopt;
  return static_cast<int>(it - kCapabilities.begin());
}

std::optional<int> rlimit_number(std::string_view name) {
  auto it = std::find(kRlimits.begin(), kRlimits.end(), name);
  if (it == kRlimits.end()) return std::nullopt;
  return static_cast<int>(it - kRlimits.begin());
}

Status validate(const Spec& spec, std::string_view origin) {
  auto st = check_spec(spec);
  if (!st) return fail(std::move(st.error()).wrap(origin));
  return {};
}

}  // namespace hull::oci
