#include "runtime/jail/plans.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <tuple>

#include "runtime/hostcgroup/cgroup.h"

namespace hull::jail {

namespace {

bool under_usr(const std::string& p) {
  return p.rfind("/usr/", 0) == 0;
}

std::string basename_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// A program runs from /usr as it is, from anywhere else bound into kJailExecDir.
std::string bind_program(JailSpec& spec, const std::string& path) {
  if (under_usr(path)) return path;
  std::string target = std::string(kJailExecDir) + "/" + basename_of(path);
  spec.binds.push_back({path, target, false, false});
  return target;
}

// The jailed process opens `path` as `id`: refuse early, naming the fix.
Status readable_by(const std::string& key, const std::string& path, const Identity& id) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail_errno(key + " " + path);
  const bool ok = (st.st_uid == id.uid && (st.st_mode & S_IRUSR)) ||
                  (st.st_gid == id.gid && (st.st_mode & S_IRGRP)) || (st.st_mode & S_IROTH);
  if (ok) return {};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return fail(Errc::Invalid, key + " " + path + " (mode " + mode +
                                 ") is not readable by the jail user " + id.user +
                                 ": make it world-readable (chmod a+r)");
}

// The start of every plan: the jail's root and user, its namespaces, /usr and
// the system directories, the program to run and the environment.
Result<JailPlan> program_jail(const std::string& root, const Identity& id, int namespaces,
                              const std::string& program) {
  JailPlan p;
  p.spec.root = root;
  p.spec.id = id;
  p.spec.namespaces = namespaces;
  HULL_TRY(add_system_dirs(p.spec));
  p.exec_path = bind_program(p.spec, program);
  p.env = jail_env();
  return p;
}

// hull-vsock and the relay: an empty network namespace of their own too.
constexpr int kOwnNamespaces = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;

}  // namespace

std::vector<std::string> jail_env() {
  std::vector<std::string> env{"PATH=/usr/bin:/bin", "LC_ALL=C"};
  const std::string key(hostcgroup::kOwnerEnv);
  if (const char* owner = std::getenv(key.c_str()); owner && *owner) {
    env.push_back(key + "=" + owner);
  }
  return env;
}

Result<JailPlan> qemu_jail(const QemuJailInput& in) {
  const int namespaces =
      CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (in.own_network ? CLONE_NEWNET : 0);
  HULL_ASSIGN(p, program_jail(in.root, in.id, namespaces, in.qemu_path));
  JailSpec& s = p.spec;
  for (auto [key, host, inside, out] :
       {std::tuple{"vm.kernel", &in.kernel, kJailKernel, &p.kernel},
        std::tuple{"vm.initrd", &in.initrd, kJailInitrd, &p.initrd}}) {
    if (::access(host->c_str(), F_OK) != 0 && errno == ENOENT) {
      *out = *host;
      continue;
    }
    HULL_TRY(readable_by(key, *host, in.id));
    s.binds.push_back({*host, inside, false, false});
    *out = inside;
  }
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/urandom"}) add_device(s, dev);
  if (in.kvm) {
    add_device(s, "/dev/kvm");
    if (in.kvm_group) s.groups.push_back(*in.kvm_group);
  }
  const uint64_t fsize = (uint64_t{in.memory_mib} << 20) + kQemuFileSlackBytes;
  s.limits = {{RLIMIT_NOFILE, kQemuNofile},
              {RLIMIT_FSIZE, static_cast<rlim_t>(fsize)},
              {RLIMIT_CORE, 0},
              {RLIMIT_NPROC, kNproc}};
  return p;
}

Result<JailPlan> vsock_jail(const VsockJailInput& in) {
  HULL_ASSIGN(p, program_jail(in.root, in.id, kOwnNamespaces, in.binary));
  JailSpec& s = p.spec;
  // Read-only: connect() needs no write access to the directory.
  s.binds.push_back({in.socket_dir, in.socket_dir, false, false});
  s.limits = {{RLIMIT_NOFILE, kVsockNofile},
              {RLIMIT_FSIZE, kVsockFsize},
              {RLIMIT_CORE, 0},
              {RLIMIT_NPROC, kNproc}};
  return p;
}

Result<JailPlan> relay_jail(const RelayJailInput& in) {
  HULL_ASSIGN(p, program_jail(in.root, in.id, kOwnNamespaces, in.binary));
  p.spec.limits = {{RLIMIT_NOFILE, kRelayNofile}, {RLIMIT_CORE, 0}, {RLIMIT_NPROC, kNproc}};
  return p;
}

}  // namespace hull::jail
