// User and groups, cwd, the executable lookup and the final execve.
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstring>

#include <fstream>
#include <sstream>

#include "agent/engine/process_setup.h"
#include "agent/engine/str.h"
#include "common/text.h"

namespace hull::engine {
namespace {

constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool env_has(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return true;
  }
  return false;
}

std::string env_get(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      return e.substr(key.size() + 1);
    }
  }
  return "";
}

// The home directory of `uid` in the container's /etc/passwd, or "/".
std::string home_of(uid_t uid) {
  std::ifstream in("/etc/passwd");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string part;
    while (std::getline(ss, part, ':')) f.push_back(part);
    if (f.size() >= 6 && f[2] == std::to_string(uid) && !f[5].empty()) return f[5];
  }
  return "/";
}

bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

Status fix_stdio_ownership(uid_t uid) {
  struct stat null {};
  bool have_null = ::stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode);
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
      if (errno == EBADF) continue;  // a closed stdio fd has no owner to fix
      return fail_errno(cat("fstat stdio fd ", fd));
    }
    if (have_null && S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev) continue;
    if (st.st_uid == uid) continue;
    // EINVAL: the uid (or the file's gid) is not mapped in this user namespace;
    // EPERM: the file's owner is not; EROFS: on a read-only /dev. As runc: leave
    // the fd as it is rather than fail.
    if (::fchown(fd, uid, static_cast<gid_t>(-1)) < 0 && errno != EINVAL && errno != EPERM &&
        errno != EROFS) {
      return fail_errno(cat("process.user.uid: chown stdio fd ", fd, " to ", uid));
    }
  }
  return {};
}

Status switch_user(ProcessPlan& p, bool setgroups_denied) {
  if (!env_has(p.env, "HOME")) p.env.push_back("HOME=" + home_of(p.uid));
  HULL_TRY(fix_stdio_ownership(p.uid));
  if (!setgroups_denied) {
    if (::setgroups(p.additional_gids.size(), p.additional_gids.data()) < 0) {
      return fail_errno("process.user.additionalGids: setgroups");
    }
  } else if (!p.additional_gids.empty()) {
    return fail(Errc::Invalid,
                "process.user.additionalGids: setgroups is denied in this user namespace");
  }
  if (::setresgid(p.gid, p.gid, p.gid) < 0)
    return fail_errno(cat("process.user.gid: setresgid ", p.gid));
  if (::setresuid(p.uid, p.uid, p.uid) < 0)
    return fail_errno(cat("process.user.uid: setresuid ", p.uid));
  return {};
}

Result<bool> enter_cwd_privileged(const ProcessPlan& p) {
  if (::chdir(p.cwd.c_str()) == 0) return false;
  if (errno == EACCES || errno == EPERM) return true;
  return fail_errno(cat("process.cwd: chdir ", p.cwd));
}

Status enter_cwd(const ProcessPlan& p, bool chdir_again) {
  if (chdir_again && ::chdir(p.cwd.c_str()) < 0) {
    return fail_errno(cat("process.cwd: chdir ", p.cwd, " as uid ", p.uid, " gid ", p.gid));
  }
  ::umask(p.umask.value_or(022));
  return {};
}

Result<std::string> find_executable(const ProcessPlan& p) {
  const std::string& name = p.args[0];
  if (name.find('/') != std::string::npos) {
    if (executable_file(name)) return name;
    // runc's words (Go's lower-case errno text): docker maps "no such file or
    // directory" to exit status 127 and "permission denied" to 126.
    int err = errno == 0 ? EACCES : errno;
    std::string why = err == ENOENT   ? "no such file or directory"
                      : err == EACCES ? "permission denied"
                                      : std::string(std::strerror(err));
    return fail(err == ENOENT ? Errc::NotFound : Errc::Invalid,
                cat("exec: ", quote(name), ": stat ", name, ": ", why));
  }
  std::string path = env_get(p.env, "PATH");
  if (!env_has(p.env, "PATH")) path = kDefaultPath;
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (executable_file(candidate)) return candidate;
  }
  return fail(Errc::NotFound, cat("exec: ", quote(name), ": executable file not found in $PATH"));
}

Error exec_process(const ProcessPlan& p, const std::string& path) {
  std::vector<char*> argv, envp;
  for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Every fd but stdio closes at exec: the init marked them CLOEXEC at its start
  // (maybe_run_init), before any seccomp filter could refuse it.
  ::execve(path.c_str(), argv.data(), envp.data());
  return Error{Errc::System, errno, cat("exec ", quote(path))};
}

}  // namespace hull::engine
