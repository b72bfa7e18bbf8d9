#include "runtime/share/share.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>

#include "common/io.h"
#include "common/unique_fd.h"

namespace hull::container {
namespace {

using Json = nlohmann::json;

bool has_option(const oci::Mount& m, std::string_view opt) {
  if (!m.options) return false;
  return std::find(m.options->begin(), m.options->end(), opt) != m.options->end();
}

std::string mount_dir_rel(const std::string& id, size_t n) {
  return "containers/" + id + "/mounts/" + std::to_string(n);
}

std::string mount_rel(const std::string& id, size_t n, const oci::Mount& m) {
  return mount_dir_rel(id, n) + "/" + bind_name(m.source.value_or(""));
}

bool has_namespace(const std::vector<oci::Namespace>& nss, std::string_view type) {
  return std::any_of(nss.begin(), nss.end(),
                     [&](const oci::Namespace& n) { return n.type == type; });
}

int namespace_flag(std::string_view type) {
  static constexpr std::pair<std::string_view, int> kTypes[] = {
      {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
      {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
      {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
  };
  for (const auto& [name, flag] : kTypes) {
    if (name == type) return flag;
  }
  return 0;
}

UniqueFd open_dir_at(int dir, const std::string& name) {
  return UniqueFd(::openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

// Binds `source` (already opened as `src`) onto a new file or directory
// `name` in `dir` (whose path is `target`'s parent), as read-only as `ro`
// says. The bind is cloned (open_tree), made read-only while still detached
// and only then attached: the shared dir propagates it to virtiofsd's mount
// namespace as it is when attached, so virtiofsd's copy is read-only too.
// Everything goes through descriptors (share.h).
Result<sandbox::MountGuard> bind_from_fd(int src, const std::string& what, int dir,
                                         const std::string& name, const std::string& target,
                                         bool recursive, BindReadonly ro) {
  struct stat st {};
  if (::fstat(src, &st) != 0) return fail_errno(what + ": stat");
  UniqueFd placeholder;
  if (S_ISDIR(st.st_mode)) {
    if (::mkdirat(dir, name.c_str(), 0711) != 0) return fail_errno(what + ": mkdir " + target);
    placeholder = open_dir_at(dir, name);
  } else {
    placeholder = UniqueFd(
        ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  }
  if (!placeholder) return fail_errno(what + ": creating " + target);
  unsigned tree_flags =
      AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0u);
  UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, src, "", tree_flags)));
  if (!tree) return fail_errno(what + ": bind mount onto " + target);
  // Every mount of the clone nodev and nosuid (virtiofsd opens what the guest
  // asks for as host root). A read-only volume is read-only with every mount
  // below it: a plain "ro" too, not only "rro", so a submount of a volume's
  // source is no way to write it; "rrw" alone makes all of it writable.
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID;
  bool rdonly = ro.recursive ? *ro.recursive : ro.top;
  if (rdonly) {
    attr.attr_set |= MOUNT_ATTR_RDONLY;
  } else if (ro.recursive) {
    attr.attr_clr = MOUNT_ATTR_RDONLY;
  }
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                sizeof(attr)) != 0) {
    return fail_errno(what + ": making " + target + " nodev, nosuid" +
                      (rdonly ? " and recursively read-only"
                              : (attr.attr_clr ? " and recursively read-write" : "")));
  }
  if (::syscall(SYS_move_mount, tree.get(), "", placeholder.get(), "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return fail_errno(what + ": bind mount onto " + target);
  }
  // `name` is a mount point now: the guest can no longer rename it.
  return sandbox::MountGuard(target);
}

Result<UniqueFd> open_source(const std::string& path, const std::string& what) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    if (err == ENOENT) {
      return fail(Errc::NotFound, what + ": source " + path + " does not exist");
    }
    return fail_errno(what + ": opening " + path, err);
  }
  return fd;
}

std::string absolute(const std::string& base, const std::string& p) {
  return !p.empty() && p[0] == '/' ? p : base + "/" + p;
}

}  // namespace

std::string bind_name(const std::string& source) {
  size_t end = source.find_last_not_of('/');
  if (end == std::string::npos) return "source";
  size_t slash = source.find_last_of('/', end);
  size_t begin = slash == std::string::npos ? 0 : slash + 1;
  std::string name = source.substr(begin, end + 1 - begin);
  if (name == "." || name == "..") return "source";
  return name;
}

Status check_namespace_paths(const oci::Spec& spec) {
  if (!spec.linux || !spec.linux->namespaces) return {};
  const auto& nss = *spec.linux->namespaces;
  for (size_t i = 0; i < nss.size(); ++i) {
    if (!nss[i].path) continue;
    std::string what = "config.json: linux.namespaces[" + std::to_string(i) + "] (" + nss[i].type +
                       ") path " + *nss[i].path;
    int want = namespace_flag(nss[i].type);
    if (want == 0) return fail(Errc::Invalid, what + ": unknown namespace type");
    UniqueFd fd(::open(nss[i].path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno(what + ": open");
    int got = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (got < 0) return fail_errno(what + ": not a namespace file");
    if (got != want) {
      return fail(Errc::Invalid, what + ": not a " + nss[i].type +
                                     " namespace; name a /proc/<pid>/ns/ file of that type");
    }
  }
  return {};
}

bool is_bind_mount(const oci::Mount& m) {
  return (m.type && *m.type == "bind") || has_option(m, "bind") || has_option(m, "rbind");
}

BindReadonly bind_readonly(const oci::Mount& m) {
  BindReadonly out;
  for (const auto& o : m.options.value_or(std::vector<std::string>{})) {
    if (o == "ro" || o == "rw") out.top = o == "ro";
    if (o == "rro" || o == "rrw") out.recursive = o == "rro";
  }
  if (out.recursive) out.top = *out.recursive;
  return out;
}

Result<oci::Spec> guest_spec(const oci::Spec& spec, const std::string& id) {
  oci::Spec g = spec;
  if (!g.root) return fail(Errc::Invalid, "config.json: root: is required");
  g.root->path = sandbox::guest_rootfs_path(id);
  if (g.mounts) {
    size_t n = 0;
    for (auto& m : *g.mounts) {
      m.extra.erase(oci::kSubmountsKey);
      if (is_bind_mount(m)) {
        m.source = mount_rel(id, n, m);
        ++n;
      }
    }
  }
  // Applied to the container's host cgroup only (runtime/hostcgroup): real-
  // time CPU limits (the guest's cgroup v2 has no RT groups) and the cpuset
  // (it names host CPUs and memory nodes, which the VM's vCPU threads are
  // pinned to there; the guest numbers its vCPUs from 0 and has one node).
  if (g.linux && g.linux->resources && g.linux->resources->cpu) {
    auto& cpu = *g.linux->resources->cpu;
    cpu.realtime_period.reset();
    cpu.realtime_runtime.reset();
    cpu.cpus.reset();
    cpu.mems.reset();
  }
  // Each container is alone in its VM: a cgroup namespace of its own costs
  // nothing and shows it its own cgroup at /sys/fs/cgroup (memory.max,
  // cpu.max, ... of its limits), as docker's default on cgroup v2 does.
  // Without a mount namespace runc makes the container's mounts in the
  // caller's; the VM's mount namespace is the agent's, which the container
  // must not pivot away, and nothing of it is the caller's anyway: the
  // container gets its own.
  if (!g.linux) g.linux = oci::Linux{};
  auto& nss = g.linux->namespaces;
  if (!nss) nss = std::vector<oci::Namespace>{};
  if (!has_namespace(*nss, "cgroup")) {
    nss->push_back(oci::Namespace{"cgroup", std::nullopt, Json::object()});
  }
  if (!has_namespace(*nss, "mount")) {
    nss->push_back(oci::Namespace{"mount", std::nullopt, Json::object()});
  }
  if (g.linux->seccomp && g.linux->seccomp->syscalls) {
    const auto& rules = *g.linux->seccomp->syscalls;
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].action != "SCMP_ACT_NOTIFY") continue;
      return fail(Errc::Unsupported, "config.json: linux.seccomp.syscalls[" + std::to_string(i) +
                                         "].action: SCMP_ACT_NOTIFY is not supported: a VM "
                                         "cannot pass the notification fd to the host's "
                                         "listenerPath");
    }
  }
  // The network the caller set up is the VM's (runtime/network wires the
  // namespace's interfaces to the guest's NICs): a network namespace, with or
  // without a path, reaches the agent without one, and the agent keeps the
  // container in the VM's namespace, where its interfaces are (its net.*
  // sysctls then apply there).
  for (auto& ns : *nss) {
    if (!ns.path) continue;
    if (ns.type == "network") {
      ns.path.reset();
      continue;
    }
    return fail(Errc::Unsupported, "config.json: linux.namespaces: joining the " + ns.type +
                                       " namespace " + *ns.path +
                                       " is not possible: each hull container runs in its own VM");
  }
  return g;
}

SharedContainer::~SharedContainer() {
  (void)unshare();
}

Status SharedContainer::unshare() {
  Status result;
  while (!mounts.empty()) {
    SharedMount& m = mounts.back();
    if (!m.mount.target().empty()) {
      std::string target = m.mount.release();
      if (::umount2(fd_path(m.dir.get(), m.name).c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 &&
          errno != EINVAL && errno != ENOENT) {
        if (result) result = fail_errno("unmounting " + target);
        mounts.pop_back();
        continue;
      }
    }
    // Best effort: the sandbox directory takes leftovers along.
    if (::unlinkat(m.dir.get(), m.name.c_str(), 0) != 0 && errno == EISDIR) {
      ::unlinkat(m.dir.get(), m.name.c_str(), AT_REMOVEDIR);
    }
    ::unlinkat(mounts_dir.get(), m.dir_name.c_str(), AT_REMOVEDIR);
    mounts.pop_back();
  }
  if (mounts_dir) {
    mounts_dir.reset();
    ::unlinkat(rootfs.dir_fd(), "mounts", AT_REMOVEDIR);
  }
  return result;
}

Result<SharedContainer> share_container(const std::string& shared_dir, const std::string& id,
                                        const oci::Spec& spec, const std::string& bundle) {
  SharedContainer out;
  HULL_TRY(check_namespace_paths(spec));
  HULL_ASSIGN(g, guest_spec(spec, id));
  std::string rootfs = absolute(bundle, spec.root->path);
  // root.readonly: the host's view of the share is read-only from the start,
  // unless createContainer hooks run in it first (runc makes the rootfs
  // read-only after them; `create` does so once they ran). The container's
  // own view is read-only either way: the guest remounts its root.
  bool hooks_first =
      spec.hooks && spec.hooks->create_container && !spec.hooks->create_container->empty();
  HULL_ASSIGN(
      rfs, wrap(sandbox::SharedRootfs::create(shared_dir, id, rootfs,
                                              spec.root->readonly.value_or(false) && !hooks_first),
                "sharing the rootfs " + rootfs));
  out.rootfs = std::move(rfs);
  std::string mdir = shared_dir + "/containers/" + id + "/mounts";
  if (::mkdirat(out.rootfs.dir_fd(), "mounts", 0711) != 0) return fail_errno("mkdir " + mdir);
  out.mounts_dir = open_dir_at(out.rootfs.dir_fd(), "mounts");
  if (!out.mounts_dir) return fail_errno("open " + mdir);
  // bind mounts, in the order guest_spec numbered them
  size_t n = 0;
  for (size_t i = 0; spec.mounts && i < spec.mounts->size(); ++i) {
    const oci::Mount& m = (*spec.mounts)[i];
    if (!is_bind_mount(m)) continue;
    std::string what = "sharing bind mount " + m.destination;
    std::string src = absolute(bundle, m.source.value_or(""));
    HULL_ASSIGN(fd, open_source(src, what));
    SharedMount sm;
    sm.dir_name = std::to_string(n);
    sm.name = bind_name(m.source.value_or(""));
    std::string dir = shared_dir + "/" + mount_dir_rel(id, n);
    if (::mkdirat(out.mounts_dir.get(), sm.dir_name.c_str(), 0711) != 0) {
      return fail_errno(what + ": mkdir " + dir);
    }
    sm.dir = open_dir_at(out.mounts_dir.get(), sm.dir_name);
    if (!sm.dir) return fail_errno(what + ": open " + dir);
    out.mounts.push_back(std::move(sm));  // from here unshare removes mounts/<n>
    HULL_ASSIGN(mg, bind_from_fd(fd.get(), what, out.mounts.back().dir.get(),
                                 out.mounts.back().name, shared_dir + "/" + mount_rel(id, n, m),
                                 has_option(m, "rbind"), bind_readonly(m)));
    out.mounts.back().mount = std::move(mg);
    if (has_option(m, "rbind")) {
      // Below the bind as mountinfo names it (the shared dir's path may
      // have symlinks in it).
      std::array<char, PATH_MAX> buf{};
      std::string dir_path = fd_path(out.mounts.back().dir.get());
      ssize_t len = ::readlink(dir_path.c_str(), buf.data(), buf.size() - 1);
      if (len < 0) return fail_errno(what + ": readlink " + dir_path);
      std::string bound =
          std::string(buf.data(), static_cast<size_t>(len)) + "/" + out.mounts.back().name;
      auto subs = sandbox::mount_points_below(bound);
      if (!subs.empty()) (*g.mounts)[i].extra[std::string(oci::kSubmountsKey)] = subs;
    }
    ++n;
  }
  out.guest_spec_json =
      oci::to_json(g).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return out;
}

}  // namespace hull::container
