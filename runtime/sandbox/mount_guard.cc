#include "runtime/sandbox/mount_guard.h"

#include <sys/mount.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace hull::sandbox {

namespace {

// mountinfo escapes blanks, tabs, newlines and backslashes as \ooo.
std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

Status MountGuard::unmount() {
  if (target_.empty()) return {};
  std::string t = std::exchange(target_, {});
  if (::umount2(t.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
      errno != ENOENT) {
    return fail_errno("unmounting " + t);
  }
  return {};
}

Result<MountGuard> make_shared_mount(const std::string& dir) {
  if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return fail_errno("bind-mounting " + dir + " onto itself");
  }
  MountGuard guard(dir);
  // nodev, nosuid: what virtiofsd serves from here never opens a host device
  // or runs set-id (each container's binds below carry the same flags).
  if (::mount(nullptr, dir.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_NODEV | MS_NOSUID,
              nullptr) != 0) {
    return fail_errno("making " + dir + " nodev, nosuid");
  }
  if (::mount(nullptr, dir.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
    return fail_errno("making " + dir + " private");
  }
  if (::mount(nullptr, dir.c_str(), nullptr, MS_SHARED, nullptr) != 0) {
    return fail_errno("making " + dir + " shared");
  }
  return guard;
}

bool is_mount_point(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mount_point;
    if (!(f >> id >> parent >> devno >> root >> mount_point)) continue;
    if (unescape_mountinfo(mount_point) == path) return true;
  }
  return false;
}

std::vector<std::string> mount_points_below(std::string_view mountinfo, const std::string& dir) {
  std::vector<std::string> out;
  std::string prefix = dir == "/" ? "/" : dir + "/";
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mount_point;
    if (!(f >> id >> parent >> devno >> root >> mount_point)) continue;
    std::string mp = unescape_mountinfo(mount_point);
    if (mp.size() <= prefix.size() || mp.compare(0, prefix.size(), prefix) != 0) continue;
    out.push_back(mp.substr(prefix.size()));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> mount_points_below(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  return mount_points_below(text.str(), dir);
}

}  // namespace hull::sandbox
