#include "agent/init/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/unique_fd.h"

namespace hull::agent::init {
namespace {

constexpr size_t kMaxControllersBytes = 4096;

Status ensure_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return {};
  return fail_errno("mkdir " + path);
}

}  // namespace

Status leave_initramfs() {
  constexpr const char* kNewRoot = "/.root";
  HULL_TRY(ensure_dir(kNewRoot, 0700));
  if (::mount("/", kNewRoot, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return fail_errno("bind / on /.root");
  }
  if (::chdir(kNewRoot) != 0) return fail_errno("chdir /.root");
  if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) return fail_errno("move /.root to /");
  if (::chroot(".") != 0) return fail_errno("chroot into the moved root");
  if (::chdir("/") != 0) return fail_errno("chdir /");
  return {};
}

std::vector<MountSpec> base_mounts() {
  constexpr unsigned long kNoExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  return {
      {"proc", "/proc", "proc", kNoExec, "", 0555},
      {"sysfs", "/sys", "sysfs", kNoExec, "", 0555},
      {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755", 0755},
      {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
       "newinstance,ptmxmode=0666,mode=0620,gid=5", 0755},
      {"shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777},
      {"cgroup2", "/sys/fs/cgroup", "cgroup2", kNoExec, "nsdelegate", 0555},
      {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0755},
  };
}

Status mount_all(const std::vector<MountSpec>& mounts) {
  for (const MountSpec& m : mounts) {
    HULL_TRY(ensure_dir(m.target, m.dir_mode));
    if (::mount(m.source.c_str(), m.target.c_str(), m.fstype.c_str(), m.flags,
                m.data.empty() ? nullptr : m.data.c_str()) != 0) {
      return fail_errno("mount " + m.fstype + " on " + m.target +
                        (m.data.empty() ? "" : " (" + m.data + ")"));
    }
  }
  return {};
}

Status create_dev_symlinks() {
  const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "/dev/fd"},
                                                       {"/proc/self/fd/0", "/dev/stdin"},
                                                       {"/proc/self/fd/1", "/dev/stdout"},
                                                       {"/proc/self/fd/2", "/dev/stderr"}};
  for (auto [target, link] : links) {
    if (::symlink(target, link) != 0 && errno != EEXIST) {
      return fail_errno(std::string("symlink ") + link + " -> " + target);
    }
  }
  return {};
}

std::vector<std::string> parse_controllers(std::string_view text) {
  std::vector<std::string> names;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find_first_not_of(" \t\n", i);
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(" \t\n", start);
    if (end == std::string_view::npos) end = text.size();
    names.emplace_back(text.substr(start, end - start));
    i = end;
  }
  return names;
}

Result<std::vector<std::string>> enable_all_controllers(const std::string& cgroup_dir) {
  HULL_ASSIGN(text, read_file(cgroup_dir + "/cgroup.controllers", kMaxControllersBytes));
  std::vector<std::string> enabled;
  std::string failed;
  // One write per controller: one that cannot be enabled does not keep the others off.
  for (const std::string& name : parse_controllers(text)) {
    auto st =
        write_kernel_file(cgroup_dir + "/cgroup.subtree_control", "+" + name, KernelWrite::InPlace);
    if (st) {
      enabled.push_back(name);
    } else {
      failed += (failed.empty() ? "" : "; ") + st.error().what();
    }
  }
  if (!failed.empty()) return fail(Errc::System, failed);
  return enabled;
}

}  // namespace hull::agent::init
