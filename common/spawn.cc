#include "common/spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/text.h"

extern char** environ;

namespace hull {
namespace {

constexpr size_t kChildStackBytes = 64 * 1024;

// The step of the child that failed, sent back with its errno.
enum class Step : int { Signals, Directory, Fds, Group, PreExec, Exec };

struct Report {
  Step step;
  int err;
  char what[96];  // Step::PreExec: the step pre_exec named
};

// Everything the child reads, prepared by the parent: after clone the child
// runs on the parent's memory and may only make async-signal-safe calls.
struct ChildArgs {
  const char* path;
  char* const* argv;
  char* const* envp;
  const std::pair<int, int>* moves;  // (staged source above `highest`, target)
  size_t move_count;
  int highest;   // the highest target number (>= 2)
  int fd_limit;  // RLIMIT_NOFILE: where closing stays without close_range
  int report_fd;
  int cwd_fd;
  ProcessGroup group;
  bool default_signals;
  int (*pre_exec)(const void*, const char**) noexcept;
  const void* pre_exec_arg;
  sigset_t final_mask;
};

// The child's code runs on a stack mapped for it and never returns, so
// AddressSanitizer's poisoning of its frames would outlive it and trip up the
// next child mapped at the same address: it is left uninstrumented.
#define HULL_CHILD_CODE __attribute__((no_sanitize("address")))

[[noreturn]] HULL_CHILD_CODE void child_fail(const ChildArgs& a, Step step,
                                             const char* what = nullptr) {
  Report r{step, errno, {}};
  for (size_t i = 0; what && what[i] && i + 1 < sizeof r.what; ++i) r.what[i] = what[i];
  (void)!::write(a.report_fd, &r, sizeof r);
  ::_exit(127);
}

HULL_CHILD_CODE int child_main(void* arg) {
  const auto& a = *static_cast<const ChildArgs*>(arg);
  // All signals are blocked (the parent blocked them around clone): reset
  // the dispositions before any can arrive, since a handler of the caller
  // would run on its memory.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;  // SIGKILL, SIGSTOP, glibc's own
    bool handled = old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN;
    if (handled || (a.default_signals && old.sa_handler == SIG_IGN)) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      if (::sigaction(sig, &dfl, nullptr) != 0) child_fail(a, Step::Signals);
    }
  }
  // Before the fds move: cwd_fd may have any number.
  if (a.cwd_fd >= 0 && ::fchdir(a.cwd_fd) != 0) child_fail(a, Step::Directory);
  for (size_t i = 0; i < a.move_count; ++i) {
    if (::dup2(a.moves[i].first, a.moves[i].second) < 0) child_fail(a, Step::Fds);
  }
  // Nothing but the mapped fds, even ones a library opened without
  // O_CLOEXEC. The staged sources and the report pipe are above `highest`.
  for (int fd = 0; fd <= a.highest; ++fd) {
    bool wanted = false;
    for (size_t i = 0; i < a.move_count; ++i) wanted = wanted || a.moves[i].second == fd;
    if (!wanted) ::close(fd);
  }
  if (::syscall(SYS_close_range, a.highest + 1, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
    // No close_range (an old kernel, or a seccomp profile refusing it): the
    // staged sources are copied by now, only the report pipe must stay.
    for (int fd = a.highest + 1; fd < a.fd_limit; ++fd) {
      if (fd != a.report_fd) ::close(fd);
    }
  }
  if (a.group == ProcessGroup::NewSession && ::setsid() < 0) child_fail(a, Step::Group);
  if (a.group == ProcessGroup::NewGroup && ::setpgid(0, 0) != 0) child_fail(a, Step::Group);
  if (a.pre_exec) {
    const char* what = "preparing the process";
    if (a.pre_exec(a.pre_exec_arg, &what) != 0) child_fail(a, Step::PreExec, what);
  }
  if (::sigprocmask(SIG_SETMASK, &a.final_mask, nullptr) != 0) child_fail(a, Step::Signals);
  ::execve(a.path, a.argv, a.envp);
  child_fail(a, Step::Exec);
}

std::string step_text(const Report& r, const std::string& path) {
  const Step step = r.step;
  switch (step) {
    case Step::Signals:
      return "resetting the signals of " + path;
    case Step::Directory:
      return "entering the working directory of " + path;
    case Step::Fds:
      return "giving " + path + " its descriptors";
    case Step::Group:
      return "giving " + path + " its session or process group";
    case Step::PreExec:
      return std::string(r.what, ::strnlen(r.what, sizeof r.what)) + " before executing " + path;
    case Step::Exec:
      return "executing " + path;
  }
  return path;
}

// A child-side copy of `fd` above every target number, so that no dup2 in
// the child can overwrite a source that is still to be copied.
Result<UniqueFd> stage(int fd, int highest, const std::string& name) {
  UniqueFd staged(::fcntl(fd, F_DUPFD_CLOEXEC, highest + 1));
  if (!staged)
    return fail_errno(name + ": duplicating fd " + std::to_string(fd) + " for the child");
  return staged;
}

int fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 1 << 16;
  return static_cast<int>(std::min<rlim_t>(r.rlim_cur, 1 << 20));
}

// The memory the child runs on: mapped for one spawn.
class ChildStack {
 public:
  ChildStack() {
    void* p = ::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : p;
  }
  ~ChildStack() {
    if (base_) ::munmap(base_, kChildStackBytes);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  bool valid() const { return base_ != nullptr; }
  void* top() const { return static_cast<char*>(base_) + kChildStackBytes; }  // grows down

 private:
  void* base_ = nullptr;
};

}  // namespace

Result<ChildProcess> spawn(std::string name, const SpawnOptions& opts) {
  const std::string path = opts.path.empty() && !opts.argv.empty() ? opts.argv[0] : opts.path;
  if (path.empty() || path[0] != '/') {
    return fail(Errc::Invalid,
                name + ": the program must be an absolute path, not \"" + path + "\"");
  }
  if (opts.argv.empty()) return fail(Errc::Invalid, name + ": no argv for " + path);
  int highest = 2;
  for (const auto& m : opts.fds) {
    if (m.child < 0 || m.child >= kMaxSpawnFd || m.parent < 0) {
      return fail(Errc::Invalid, name + ": cannot give fd " + std::to_string(m.parent) +
                                     " to the child as fd " + std::to_string(m.child));
    }
    if (std::count_if(opts.fds.begin(), opts.fds.end(),
                      [&](const FdMap& o) { return o.child == m.child; }) > 1) {
      return fail(Errc::Invalid, name + ": child fd " + std::to_string(m.child) + " mapped twice");
    }
    highest = std::max(highest, m.child);
  }

  std::vector<UniqueFd> staged;
  std::vector<std::pair<int, int>> moves;
  auto add_move = [&](int fd, int child) -> Status {
    HULL_ASSIGN(s, stage(fd, highest, name));
    moves.emplace_back(s.get(), child);
    staged.push_back(std::move(s));
    return {};
  };
  UniqueFd null;
  for (int fd = 0; fd <= 2; ++fd) {
    bool mapped = std::any_of(opts.fds.begin(), opts.fds.end(),
                              [&](const FdMap& m) { return m.child == fd; });
    if (mapped) continue;
    if (!null) null.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) return fail_errno(name + ": opening /dev/null");
    HULL_TRY(add_move(null.get(), fd));
  }
  for (const auto& m : opts.fds) HULL_TRY(add_move(m.parent, m.child));

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail_errno(name + ": pipe");
  UniqueFd report_rd(pipe_fds[0]), report_wr_low(pipe_fds[1]);
  HULL_ASSIGN(report_wr, stage(report_wr_low.get(), highest, name));
  report_wr_low.reset();

  std::vector<char*> argv;
  for (const auto& a : opts.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (opts.env) {
    for (const auto& e : *opts.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }

  ChildStack stack;
  if (!stack.valid()) return fail_errno(name + ": mapping a stack for the child");
  ChildArgs args{path.c_str(),
                 argv.data(),
                 opts.env ? envp.data() : environ,
                 moves.data(),
                 moves.size(),
                 highest,
                 fd_limit(),
                 report_wr.get(),
                 opts.cwd_fd,
                 opts.group,
                 opts.default_signals,
                 opts.pre_exec,
                 opts.pre_exec_arg,
                 {}};
  // No handler of ours may run in the child: every signal stays blocked
  // until the child has reset the dispositions.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  if (opts.default_signals) {
    sigemptyset(&args.final_mask);
  } else {
    args.final_mask = old;
  }
  int pidfd = -1;
  int flags =
      CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD | (opts.new_pid_namespace ? CLONE_NEWPID : 0);
  pid_t pid = ::clone(child_main, stack.top(), flags, &args, &pidfd);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return fail_errno(name + ": clone for " + path, clone_errno);

  // The child has called execve or ended (CLONE_VFORK).
  ChildProcess child(pid, UniqueFd(pidfd), std::move(name));
  report_wr.reset();
  Report r{};
  ssize_t n;
  while ((n = ::read(report_rd.get(), &r, sizeof r)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof r)) {
    child.kill_and_reap();
    Errc code = r.step == Step::Exec && r.err == ENOENT ? Errc::NotFound : Errc::System;
    return std::unexpected(Error{code, r.err, child.name() + ": " + step_text(r, path)});
  }
  return child;
}

Result<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (name[0] == '/') return name;
    char* cwd = ::getcwd(nullptr, 0);
    if (!cwd) return fail_errno("finding " + name + ": getcwd");
    std::string abs = std::string(cwd) + "/" + name;
    std::free(cwd);
    return abs;
  }
  const char* env = std::getenv("PATH");
  for (std::string_view dir : split(env && *env ? env : "/usr/local/bin:/usr/bin:/bin", ':')) {
    if (dir.empty() || dir[0] != '/') continue;
    std::string candidate = std::string(dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::unexpected(Error{Errc::NotFound, ENOENT, "finding " + name + " in PATH"});
}

Result<UniqueFd> open_output_log(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail_errno("opening the log " + path);
  return fd;
}

}  // namespace hull
