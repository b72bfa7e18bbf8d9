#include "runtime/jail/jail.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>

namespace hull::jail {

namespace {

// The jail's own root: small, and read-only once the binds are in place.
constexpr const char* kRootTmpfsOptions = "mode=0755,size=256k,nr_inodes=256";

bool parse_id(const std::string& s, unsigned* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::string parent_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? std::string("/") : p.substr(0, slash);
}

bool clean_absolute(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  if (p.find("//") != std::string::npos) return false;
  if (p.size() > 1 && p.back() == '/') return false;
  for (size_t i = 0; i < p.size();) {
    size_t j = p.find('/', i + 1);
    std::string part = p.substr(i + 1, j == std::string::npos ? std::string::npos : j - i - 1);
    if (part == "." || part == "..") return false;
    if (j == std::string::npos) break;
    i = j;
  }
  return true;
}

// In the child: a failed step.
int failed(const char** step, const char* what) noexcept {
  *step = what;
  return -1;
}

}  // namespace

Result<Identity> resolve_identity(const std::string& user, const std::string& group) {
  Identity id;
  id.user = user;
  unsigned n = 0;
  if (parse_id(user, &n)) {
    id.uid = n;
    passwd pw{}, *res = nullptr;
    char buf[4096];
    if (::getpwuid_r(id.uid, &pw, buf, sizeof buf, &res) == 0 && res) {
      id.gid = res->pw_gid;
    } else if (group.empty()) {
      return fail(Errc::Invalid,
                  "jail.user " + user + " is a number with no passwd entry: set jail.group too");
    }
  } else {
    passwd pw{}, *res = nullptr;
    char buf[4096];
    if (::getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &res) != 0 || !res) {
      return fail(Errc::NotFound, "jail user \"" + user +
                                      "\" does not exist: run scripts/setup.sh (it creates the "
                                      "system user hull) or set jail.user in the hull config");
    }
    id.uid = res->pw_uid;
    id.gid = res->pw_gid;
  }
  if (!group.empty()) {
    if (parse_id(group, &n)) {
      id.gid = n;
    } else {
      struct group gr {
      }, *res = nullptr;
      char buf[4096];
      if (::getgrnam_r(group.c_str(), &gr, buf, sizeof buf, &res) != 0 || !res) {
        return fail(Errc::NotFound,
                    "jail group \"" + group + "\" does not exist: create it or set jail.group");
      }
      id.gid = res->gr_gid;
    }
  }
  if (id.uid == 0 || id.gid == 0) {
    return fail(Errc::Invalid, "jail.user/jail.group resolve to uid " + std::to_string(id.uid) +
                                   " gid " + std::to_string(id.gid) +
                                   ": the jail needs an unprivileged user and group, not root");
  }
  return id;
}

Status add_system_dirs(JailSpec& spec) {
  spec.binds.push_back({"/usr", "/usr", false, false});
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    struct stat st {};
    if (::lstat(top, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char text[256];
      ssize_t n = ::readlink(top, text, sizeof text - 1);
      if (n < 0) return fail_errno(std::string("readlink ") + top);
      spec.symlinks.emplace_back(top, std::string(text, static_cast<size_t>(n)));
    } else if (S_ISDIR(st.st_mode)) {
      spec.binds.push_back({top, top, false, false});
    }
  }
  return {};
}

void add_device(JailSpec& spec, const std::string& path) {
  spec.binds.push_back({path, path, true, true});
}

Result<Jail> Jail::prepare(JailSpec spec) {
  Jail j;
  if (!clean_absolute(spec.root)) {
    return fail(Errc::Invalid, "jail root must be a clean absolute path: " + spec.root);
  }
  if (spec.id.uid == 0 || spec.id.gid == 0) {
    return fail(Errc::Invalid, "jail: refusing to run as uid/gid 0");
  }
  struct stat st {};
  if (::lstat(spec.root.c_str(), &st) != 0) return fail_errno("jail root " + spec.root);
  if (!S_ISDIR(st.st_mode))
    return fail(Errc::Invalid, "jail root is not a directory: " + spec.root);
  j.root_ = spec.root;
  j.unshare_flags_ = spec.namespaces | CLONE_NEWNS;

  std::set<std::string> made{"/"};
  auto mkdirs = [&](const std::string& dir) {
    std::vector<std::string> chain;
    for (std::string d = dir; !made.count(d); d = parent_of(d)) chain.push_back(d);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      made.insert(*it);
      j.dirs_.push_back(j.root_ + *it);
    }
  };
  for (const Bind& b : spec.binds) {
    if (!clean_absolute(b.source) || !clean_absolute(b.target) || b.target == "/") {
      return fail(Errc::Invalid,
                  "jail bind needs clean absolute paths: " + b.source + " -> " + b.target);
    }
    struct stat s {};
    if (::stat(b.source.c_str(), &s) != 0) {
      if (errno == ENOENT) return fail(Errc::NotFound, "jail: " + b.source + " does not exist");
      return fail_errno("jail bind source " + b.source);
    }
    const bool dir = S_ISDIR(s.st_mode);
    mkdirs(parent_of(b.target));
    if (dir) mkdirs(b.target);
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID;
    if (!b.writable) flags |= MS_RDONLY;
    if (b.device) {
      flags |= MS_NOEXEC;
    } else {
      flags |= MS_NODEV;
    }
    j.mounts_.push_back(Mount{b.source, j.root_ + b.target, !dir, flags});
  }
  for (const auto& [path, text] : spec.symlinks) {
    if (!clean_absolute(path) || path == "/") {
      return fail(Errc::Invalid, "jail symlink needs a clean absolute path: " + path);
    }
    mkdirs(parent_of(path));
    j.links_.emplace_back(j.root_ + path, text);
  }
  j.spec_ = std::move(spec);
  return j;
}

int Jail::enter(const char** step) const noexcept {
  if (::unshare(unshare_flags_) != 0) return failed(step, "unshare");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return failed(step, "making the mount tree private");
  }
  if (::mount("hull-jail", root_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              kRootTmpfsOptions) != 0) {
    return failed(step, "mounting the jail's tmpfs");
  }
  for (const std::string& d : dirs_) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return failed(step, "mkdir in the jail");
  }
  for (const Mount& m : mounts_) {
    if (m.file) {
      int fd = ::open(m.target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) return failed(step, "creating a bind target in the jail");
      ::close(fd);
    }
    if (::mount(m.source.c_str(), m.target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return failed(step, "bind mount into the jail");
    }
    if (::mount(nullptr, m.target.c_str(), nullptr, m.remount_flags, nullptr) != 0) {
      return failed(step, "remounting a bind in the jail");
    }
  }
  for (const auto& [path, text] : links_) {
    if (::symlink(text.c_str(), path.c_str()) != 0) return failed(step, "symlink in the jail");
  }
  if (::mount(nullptr, root_.c_str(), nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return failed(step, "remounting the jail's root read-only");
  }
  if (::chdir(root_.c_str()) != 0) return failed(step, "chdir to the jail");
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return failed(step, "pivot_root");
  if (::umount2(".", MNT_DETACH) != 0) return failed(step, "detaching the old root");
  if (::chdir("/") != 0) return failed(step, "chdir /");
  if ((unshare_flags_ & CLONE_NEWUTS) &&
      ::sethostname(spec_.hostname.data(), spec_.hostname.size()) != 0) {
    return failed(step, "sethostname");
  }

  for (const Limit& l : spec_.limits) {
    rlimit r{l.value, l.value};
    if (::setrlimit(l.resource, &r) != 0) return failed(step, "setrlimit");
  }
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  if (::sigaction(SIGXFSZ, &ign, nullptr) != 0) return failed(step, "ignoring SIGXFSZ");

  // The bounding set needs CAP_SETPCAP, which goes with the uid change.
  for (int cap = 0;; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      return failed(step, "dropping the capability bounding set");
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return failed(step, "clearing ambient capabilities");
  }
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return failed(step, "PR_SET_KEEPCAPS");
  if (::syscall(SYS_setgroups, spec_.groups.size(), spec_.groups.data()) != 0) {
    return failed(step, "setgroups");
  }
  const gid_t g = spec_.id.gid;
  const uid_t u = spec_.id.uid;
  if (::syscall(SYS_setresgid, g, g, g) != 0) return failed(step, "setresgid");
  if (::syscall(SYS_setresuid, u, u, u) != 0) return failed(step, "setresuid");
  // The uid change emptied the permitted and effective sets; the inheritable set is ours to clear.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capset, &hdr, data) != 0) return failed(step, "capset");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed(step, "PR_SET_NO_NEW_PRIVS");
  return 0;
}

int enter_hook(const void* arg, const char** step) noexcept {
  return static_cast<const Jail*>(arg)->enter(step);
}

}  // namespace hull::jail
