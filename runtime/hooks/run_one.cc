// run_one(): spawns one hook with posix_spawn and waits for it with a pidfd
// (see hooks.h for why posix_spawn and why killing by pid is safe here).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/io.h"
#include "common/pidfd.h"
#include "common/unique_fd.h"
#include "runtime/hooks/hooks.h"
#include "runtime/hooks/limits.h"

extern char** environ;

namespace hull::hooks {
namespace {

using Clock = std::chrono::steady_clock;

// The spawned hook until it is reaped: the destructor kills its process group
// and reaps it, so no error path leaves a hook running or a zombie behind.
class SpawnedHook {
 public:
  explicit SpawnedHook(pid_t pid) : pid_(pid) {}
  ~SpawnedHook() {
    if (pid_ > 0) {
      kill_group();
      (void)reap();
    }
  }
  SpawnedHook(const SpawnedHook&) = delete;
  SpawnedHook& operator=(const SpawnedHook&) = delete;

  pid_t pid() const { return pid_; }

  // SIGKILL to the hook's process group (it leads its own, POSIX_SPAWN_SETPGROUP)
  // and to the hook itself. The pid cannot have been reused: we have not reaped it.
  void kill_group() const {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
  }

  // Waits for the hook to end and returns its wait status; nullopt when the
  // status is lost (the caller set SIGCHLD to SIG_IGN, or reaped it elsewhere).
  std::optional<int> reap() {
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (r < 0) return std::nullopt;
    return status;
  }

 private:
  pid_t pid_;
};

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnAttrs {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnAttrs() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
};

// Moves a descriptor above 0-2: when the caller runs with stdin, stdout or
// stderr closed, a new descriptor can be 0-2, and the child's dup2 onto that
// number would then be a no-op that leaves it close-on-exec.
Result<UniqueFd> above_stdio(UniqueFd fd) {
  if (fd.get() > 2) return fd;
  UniqueFd moved(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
  if (!moved) return fail_errno("fcntl(F_DUPFD_CLOEXEC)");
  return moved;
}

// The state JSON in a memfd at offset 0: the hook reads it as
// stdin at its own pace, and a hook that never reads cannot block us or make
// a write raise SIGPIPE in the runtime.
Result<UniqueFd> state_fd(std::string_view state) {
  if (state.size() > kMaxStateBytes) {
    return fail(Errc::Invalid, "state JSON is " + std::to_string(state.size()) +
                                   " bytes, more than the limit of " +
                                   std::to_string(kMaxStateBytes));
  }
  UniqueFd fd(::memfd_create("hull-hook-state", MFD_CLOEXEC));
  if (!fd) return fail_errno("memfd_create");
  HULL_TRY(wrap(write_all(fd.get(), state), "writing the state for the hook"));
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return fail_errno("lseek");
  return above_stdio(std::move(fd));
}

struct Pipe {
  UniqueFd rd, wr;
};

// A pipe whose read end (ours) is non-blocking; the hook's end stays blocking.
Result<Pipe> output_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe2");
  Pipe p;
  HULL_ASSIGN(rd, above_stdio(UniqueFd(fds[0])));
  HULL_ASSIGN(wr, above_stdio(UniqueFd(fds[1])));
  p.rd = std::move(rd);
  p.wr = std::move(wr);
  HULL_TRY(set_nonblocking(p.rd.get()));
  return p;
}

void append_tail(std::string& buf, const char* data, size_t n) {
  buf.append(data, n);
  if (buf.size() > kMaxCapture) buf.erase(0, buf.size() - kMaxCapture);
}

// Reads what is there now. Returns false at EOF or on an error (stop polling it).
bool read_some(const UniqueFd& fd, std::string& buf) {
  char chunk[4096];
  for (size_t total = 0; total < 4 * kMaxCapture;) {
    ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n > 0) {
      append_tail(buf, chunk, static_cast<size_t>(n));
      total += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;
  }
  return true;
}

Outcome outcome_of(int status) {
  Outcome o;
  if (WIFSIGNALED(status)) {
    o.signaled = true;
    o.signal = WTERMSIG(status);
    o.exit_code = 128 + o.signal;
  } else {
    o.exit_code = WEXITSTATUS(status);
  }
  return o;
}

}  // namespace

Result<Outcome> run_one(const Hook& hook, std::string_view state, int cwd_fd) {
  if (hook.path.empty()) return fail(Errc::Invalid, "hook has no path");
  HULL_ASSIGN(in, state_fd(state));
  HULL_ASSIGN(out, output_pipe());
  HULL_ASSIGN(err, output_pipe());

  std::vector<std::string> argv_s =
      hook.args && !hook.args->empty() ? *hook.args : std::vector<std::string>{hook.path};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = hook.env.value_or(std::vector<std::string>{});
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  SpawnAttrs sa;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&sa.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&sa.attr, 0);
  posix_spawnattr_setsigmask(&sa.attr, &none);
  posix_spawnattr_setsigdefault(&sa.attr, &all);
  // First, while cwd_fd is still open in the child whatever its number.
  if (cwd_fd >= 0) posix_spawn_file_actions_addfchdir_np(&sa.actions, cwd_fd);
  posix_spawn_file_actions_adddup2(&sa.actions, in.get(), 0);
  posix_spawn_file_actions_adddup2(&sa.actions, out.wr.get(), 1);
  posix_spawn_file_actions_adddup2(&sa.actions, err.wr.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&sa.actions, 3);

  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, hook.path.c_str(), &sa.actions, &sa.attr, argv.data(),
                         hook.env ? envp.data() : environ);
  if (rc != 0) {
    return std::unexpected(
        Error{rc == ENOENT ? Errc::NotFound : Errc::System, rc, "cannot execute"});
  }
  SpawnedHook child(pid);
  in.reset();
  out.wr.reset();
  err.wr.reset();

  UniqueFd pidfd(::pidfd_open(pid, 0));
  if (!pidfd) return fail_errno("pidfd_open");

  Outcome captured;
  bool out_open = true, err_open = true;
  std::optional<Clock::time_point> deadline;
  if (hook.timeout) deadline = Clock::now() + *hook.timeout;
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        child.kill_group();
        (void)child.reap();
        return fail(Errc::Timeout,
                    "timed out after " + std::to_string(hook.timeout->count()) + " s");
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left.count(), 60'000));
    }
    pollfd p[3] = {{pidfd.get(), POLLIN, 0},
                   {out_open ? out.rd.get() : -1, POLLIN, 0},
                   {err_open ? err.rd.get() : -1, POLLIN, 0}};
    int n = ::poll(p, 3, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("poll");
    if (p[1].revents) out_open = read_some(out.rd, captured.stdout_tail);
    if (p[2].revents) err_open = read_some(err.rd, captured.stderr_tail);
    if (p[0].revents) break;
  }
  auto status = child.reap();
  if (!status) {
    return fail(Errc::Internal, "lost the hook's exit status (is SIGCHLD set to SIG_IGN?)");
  }
  Outcome o = outcome_of(*status);
  // What the hook wrote just before it ended (a grandchild may still hold the
  // pipes open; we do not wait for it).
  if (out_open) read_some(out.rd, captured.stdout_tail);
  if (err_open) read_some(err.rd, captured.stderr_tail);
  o.stdout_tail = std::move(captured.stdout_tail);
  o.stderr_tail = std::move(captured.stderr_tail);
  return o;
}

}  // namespace hull::hooks
