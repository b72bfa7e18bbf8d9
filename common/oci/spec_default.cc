// The specs `hull spec` writes: runc's specconv.Example and ToRootless, with
// hull's ociVersion and hostname.
//
// Capabilities follow runc >= 1.1.2: bounding, permitted and effective only.
// runc 1.1.0/1.1.1 also filled inheritable and ambient, which let a non-root
// container process keep the caps across execve (CVE-2022-29162), so they
// are left out here on purpose.
#include <unistd.h>

#include <string>
#include <vector>

#include "common/oci/spec.h"

namespace hull::oci {
namespace {

std::vector<std::string> default_caps() {
  return {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
}

Mount make_mount(std::string dest, std::string type, std::string source,
                 std::optional<std::vector<std::string>> options) {
  Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

Namespace make_ns(std::string type) {
  Namespace ns;
  ns.type = std::move(type);
  return ns;
}

IdMapping map_to_root(uint32_t host_id) {
  IdMapping m;
  m.container_id = 0;
  m.host_id = host_id;
  m.size = 1;
  return m;
}

}  // namespace

Spec default_spec(CgroupNamespace cgroup_ns) {
  Spec s;
  s.oci_version = std::string(kOciVersion);

  Root root;
  root.path = "rootfs";
  root.readonly = true;
  s.root = std::move(root);

  Process p;
  p.terminal = true;
  p.args = std::vector<std::string>{"sh"};
  p.env = std::vector<std::string>{
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm",
  };
  p.cwd = "/";
  p.no_new_privileges = true;
  Capabilities caps;
  caps.bounding = default_caps();
  caps.effective = default_caps();
  caps.permitted = default_caps();
  p.capabilities = std::move(caps);
  Rlimit nofile;
  nofile.type = "RLIMIT_NOFILE";
  nofile.hard = 1024;
  nofile.soft = 1024;
  p.rlimits = std::vector<Rlimit>{std::move(nofile)};
  s.process = std::move(p);

  s.hostname = "hull";

  s.mounts = std::vector<Mount>{
      make_mount("/proc", "proc", "proc", std::nullopt),
      make_mount("/dev", "tmpfs", "tmpfs", {{"nosuid", "strictatime", "mode=755", "size=65536k"}}),
      make_mount("/dev/pts", "devpts", "devpts",
                 {{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}),
      make_mount("/dev/shm", "tmpfs", "shm",
                 {{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}),
      make_mount("/dev/mqueue", "mqueue", "mqueue", {{"nosuid", "noexec", "nodev"}}),
      make_mount("/sys", "sysfs", "sysfs", {{"nosuid", "noexec", "nodev", "ro"}}),
      make_mount("/sys/fs/cgroup", "cgroup", "cgroup",
                 {{"nosuid", "noexec", "nodev", "relatime", "ro"}}),
  };

  Linux l;
  l.masked_paths = std::vector<std::string>{
      "/proc/acpi",
      "/proc/asound",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/sys/firmware",
      "/proc/scsi",
      "/sys/devices/virtual/tpm",
  };
  l.readonly_paths = std::vector<std::string>{
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
  };
  Resources res;
  DeviceCgroup deny_all;
  deny_all.allow = false;
  deny_all.access = "rwm";
  res.devices = std::vector<DeviceCgroup>{std::move(deny_all)};
  l.resources = std::move(res);
  l.namespaces = std::vector<Namespace>{
      make_ns("pid"), make_ns("network"), make_ns("ipc"), make_ns("uts"), make_ns("mount"),
  };
  if (cgroup_ns == CgroupNamespace::Add) l.namespaces->push_back(make_ns("cgroup"));
  s.linux = std::move(l);
  return s;
}

void to_rootless(Spec& spec, uint32_t uid, uint32_t gid) {
  if (!spec.linux) spec.linux.emplace();
  Linux& l = *spec.linux;
  std::vector<Namespace> namespaces;
  if (l.namespaces) {
    for (auto& ns : *l.namespaces) {
      if (ns.type != "network" && ns.type != "user") namespaces.push_back(std::move(ns));
    }
  }
  namespaces.push_back(make_ns("user"));
  l.namespaces = std::move(namespaces);
  l.uid_mappings = std::vector<IdMapping>{map_to_root(uid)};
  l.gid_mappings = std::vector<IdMapping>{map_to_root(gid)};

  if (spec.mounts) {
    for (auto& m : *spec.mounts) {
      std::string dest = m.destination;
      while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
      if (dest == "/sys") {
        m = make_mount("/sys", "none", "/sys", {{"rbind", "nosuid", "noexec", "nodev", "ro"}});
        continue;
      }
      if (!m.options) continue;
      std::vector<std::string> kept;
      for (auto& o : *m.options) {
        if (!o.starts_with("gid=") && !o.starts_with("uid=")) kept.push_back(std::move(o));
      }
      // runc keeps a nil slice when nothing is left, which Go omits.
      m.options = kept.empty() ? std::nullopt : std::optional(std::move(kept));
    }
  }
  l.resources.reset();
}

Spec default_rootless_spec(CgroupNamespace cgroup_ns) {
  Spec s = default_spec(cgroup_ns);
  to_rootless(s, static_cast<uint32_t>(::geteuid()), static_cast<uint32_t>(::getegid()));
  return s;
}

}  // namespace hull::oci
