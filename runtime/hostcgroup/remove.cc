// Cgroup::remove(): killing the container's tasks and removing the
// directories hull made (cgroup.h says whose tasks and which directories).
#include "runtime/hostcgroup/cgroup.h"

#include <dirent.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include "common/file.h"
#include "common/pidfd.h"
#include "common/unique_fd.h"
#include "runtime/hostcgroup/files.h"
#include "runtime/hostcgroup/limits.h"

namespace hull::hostcgroup {
namespace {

bool has_subdirs(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && e->d_type == DT_DIR) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && e->d_type == DT_DIR) out.push_back(dir + "/" + n);
  }
  ::closedir(d);
  return out;
}

// What task `pid` carries in kOwnerEnv ("" when it is gone or carries none).
std::string tag_of(pid_t pid) {
  auto env = read_file("/proc/" + std::to_string(pid) + "/environ", kMaxProcFileBytes);
  return env ? owner_in_environ(*env) : "";
}

// Which tasks of a leaf remove(true) may kill and waits for (Cgroup's
// comment); an empty owner (an older record) takes them all.
struct KillRule {
  std::string owner;
  bool shared = false;
  bool covers(pid_t pid) const {
    if (pid == ::getpid()) return false;  // `hull create` while its monitor forks
    return owner.empty() || ours_to_kill(tag_of(pid), owner, shared);
  }
};

std::vector<pid_t> covered_tasks(const std::string& dir, const KillRule& rule) {
  std::vector<pid_t> out;
  for (pid_t p : tasks_of(dir)) {
    if (rule.covers(p)) out.push_back(p);
  }
  return out;
}

// SIGKILL to the tasks of `dir` the rule covers, each through a pidfd opened
// while it still is in the cgroup (a pid recycled meanwhile is not hit).
void kill_tasks(const std::string& dir, const KillRule& rule) {
  for (pid_t pid : covered_tasks(dir, rule)) {
    UniqueFd pfd(::pidfd_open(pid, 0));
    if (!pfd) continue;
    auto again = tasks_of(dir);
    if (std::find(again.begin(), again.end(), pid) == again.end()) continue;
    (void)::pidfd_send_signal(pfd.get(), SIGKILL, nullptr, 0);
  }
}

std::string pid_list(const std::vector<pid_t>& pids) {
  std::string out;
  for (pid_t p : pids) out += (out.empty() ? "" : " ") + std::to_string(p);
  return out;
}

// Removes the cgroup directory `dir` (`leaf`: the container's own, whose
// sub-cgroups go first, as runc's RemovePath), waiting for tasks that are
// still exiting; `kill`: the tasks `rule` covers get SIGKILL once. True when
// it is gone, false when it is still in use and left: a parent with another
// cgroup below it (a shared parent), or a leaf whose remaining tasks are not
// the container's (another container in the same cgroup).
Result<bool> remove_dir(const std::string& where, const std::string& dir, bool leaf, bool kill,
                        const KillRule& rule) {
  using Clock = std::chrono::steady_clock;
  if (leaf) {
    for (const auto& sub : subdirs(dir)) HULL_TRY(remove_dir(where, sub, true, kill, rule));
  }
  auto deadline = Clock::now() + kRemoveRetryBudget;
  auto delay = std::chrono::milliseconds(1);
  bool killed = false;
  while (true) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    int e = errno;
    if (e == EINTR) continue;
    if (e != EBUSY && e != ENOTEMPTY) return fail_errno(where + ": rmdir " + dir, e);
    // A parent with tasks or another cgroup in it is in use: left, at once.
    // Neither, and still EBUSY: the child just removed is still going offline
    // (cgroup v1 does that after rmdir returns), so try again a little.
    if (!leaf && (has_subdirs(dir) || !tasks_of(dir).empty())) return false;
    if (!leaf && Clock::now() >= deadline) return false;
    if (leaf && kill && !killed) {
      kill_tasks(dir, rule);
      killed = true;
    }
    // Only others' tasks left (none of ours still exiting): theirs to remove.
    if (leaf && kill && !rule.owner.empty() && !tasks_of(dir).empty() &&
        covered_tasks(dir, rule).empty()) {
      return false;
    }
    if (Clock::now() >= deadline) {
      auto left = tasks_of(dir);
      return std::unexpected(Error{
          Errc::System, e,
          where + ": rmdir " + dir + (left.empty() ? "" : " (tasks " + pid_list(left) + ")")});
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
}

// Whether the process behind `pidfd` has exited: every thread of it is past
// cgroup_exit, so it no longer holds any cgroup (pidfd poll semantics).
bool has_exited(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

// SIGKILL to the tasks of a leaf hull joined (and of its sub-cgroups) that the
// rule covers, then waits until they have exited; the directories stay.
//
// Whose a task is, is judged once, while it is alive: a killed task stops
// showing its environment (the kOwnerEnv tag) as soon as it drops its memory,
// but stays in the cgroup until that memory is freed, which for a VM's
// gigabytes takes a while. Judged again then, it would pass for nobody's, and
// in a shared leaf be left to exit on its own while the leaf, still
// populated, could not be removed. So the tasks killed are waited for through
// their pidfds; only tasks not killed yet (forked meanwhile) meet the rule.
Status kill_joined(const std::string& where, const std::string& dir, const KillRule& rule) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::string> all{dir};
  for (size_t i = 0; i < all.size() && all.size() < kMaxPathDepth * 16; ++i) {
    for (auto& sub : subdirs(all[i])) all.push_back(std::move(sub));
  }
  struct Killed {
    pid_t pid;
    UniqueFd pidfd;
  };
  std::vector<Killed> killed;
  auto dying = [&](pid_t pid) {
    return std::any_of(killed.begin(), killed.end(),
                       [&](const Killed& k) { return k.pid == pid && !has_exited(k.pidfd.get()); });
  };
  auto deadline = Clock::now() + kRemoveRetryBudget;
  auto delay = std::chrono::milliseconds(1);
  while (true) {
    for (const auto& d : all) {
      for (pid_t pid : tasks_of(d)) {
        if (dying(pid) || !rule.covers(pid)) continue;
        // Through a pidfd opened while it still is in the cgroup: a pid
        // recycled meanwhile is not hit.
        UniqueFd pfd(::pidfd_open(pid, 0));
        if (!pfd) continue;  // gone already
        auto again = tasks_of(d);
        if (std::find(again.begin(), again.end(), pid) == again.end()) continue;
        (void)::pidfd_send_signal(pfd.get(), SIGKILL, nullptr, 0);
        killed.push_back(Killed{pid, std::move(pfd)});
      }
    }
    std::vector<pid_t> left;
    for (const auto& k : killed) {
      if (!has_exited(k.pidfd.get())) left.push_back(k.pid);
    }
    if (left.empty()) return {};
    if (Clock::now() >= deadline) {
      return fail(Errc::Timeout,
                  where + ": " + dir + ": tasks " + pid_list(left) + " still there after SIGKILL");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
}

}  // namespace

std::string owner_in_environ(std::string_view environ_text) {
  std::string prefix = std::string(kOwnerEnv) + "=";
  size_t start = 0;
  while (start < environ_text.size()) {
    size_t end = environ_text.find('\0', start);
    if (end == std::string_view::npos) end = environ_text.size();
    std::string_view entry = environ_text.substr(start, end - start);
    if (entry.starts_with(prefix)) return std::string(entry.substr(prefix.size()));
    start = end + 1;
  }
  return "";
}

bool ours_to_kill(std::string_view tag, std::string_view owner, bool shared) {
  if (!tag.empty()) return tag == owner;
  return !shared;
}

Status Cgroup::remove(bool kill_remaining) {
  Status result;
  for (auto& d : dirs_) {
    KillRule rule{owner_, d.shared};
    if (kill_remaining && d.leaf_joined) {
      if (auto st = kill_joined(where(), d.path, rule); !st && result) result = std::move(st);
      // A leaf that held others' tasks at create: whoever made it may be
      // gone, so the last one out removes it (runc removes it too).
      if (d.shared && result && ::rmdir(d.path.c_str()) != 0 && errno != EBUSY && errno != ENOENT &&
          errno != ENOTEMPTY) {
        result = fail_errno(where() + ": rmdir " + d.path);
      }
    }
    while (!d.created.empty()) {
      const std::string dir = d.created.back();
      auto gone = remove_dir(where(), dir, dir == d.path, kill_remaining, rule);
      if (!gone) {
        if (result) result = std::unexpected(std::move(gone.error()));
        break;
      }
      if (!*gone) {
        d.created.clear();  // the rest are its parents: in use as well
        break;
      }
      d.created.pop_back();
    }
  }
  if (result) owned_ = false;  // on failure, still ours: the destructor tries again
  return result;
}

}  // namespace hull::hostcgroup
