#include "runtime/network/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <thread>

#include "common/unique_fd.h"

namespace hull::network {

Result<NsId> netns_id(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {
      return fail(Errc::NotFound, "network namespace " + path + ": no such file");
    }
    return fail_errno("opening network namespace " + path);
  }
  struct statfs sfs {};
  if (::fstatfs(fd.get(), &sfs) != 0) return fail_errno("statfs " + path);
  if (sfs.f_type != NSFS_MAGIC) {
    return fail(Errc::Invalid, path + " is no namespace file (give /proc/<pid>/ns/net or a " +
                                   "bind mount of one, such as /run/netns/<name>)");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + path);
  return NsId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

Result<NsId> current_netns() {
  return netns_id("/proc/thread-self/ns/net");
}

Result<NsId> host_netns() {
  return netns_id("/proc/1/ns/net");
}

bool is_host_netns(const NsId& ns, const NsId* init) {
  return (init && ns == *init) || ns.ino == kInitNetnsIno;
}

Status refuse_host_netns(std::string_view what) {
  HULL_ASSIGN(self, current_netns());
  auto host = host_netns();
  if (!host && !(host.error().code == Errc::System &&
                 (host.error().sys_errno == EACCES || host.error().sys_errno == EPERM))) {
    return fail(std::move(host.error()).wrap(what));
  }
  if (is_host_netns(self, host ? &*host : nullptr)) {
    return fail(Errc::Unsupported, std::string(what) +
                                       ": refused in the host's own network namespace (hull "
                                       "changes interfaces only in a container's namespace)");
  }
  return {};
}

Status in_netns(const std::string& path, const std::function<Status()>& fn) {
  Status result;
  std::thread t([&] {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      result = fail_errno("opening network namespace " + path);
      return;
    }
    if (::setns(fd.get(), CLONE_NEWNET) != 0) {
      result = fail_errno("joining network namespace " + path);
      return;
    }
    if (auto st = refuse_host_netns(path); !st) {
      result = st;
      return;
    }
    result = fn();
  });
  t.join();
  return result;
}

}  // namespace hull::network
