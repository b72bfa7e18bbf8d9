// run_one(): spawns one hook (spawn(), common/spawn.h) and waits for it with
// its pidfd (see hooks.h for why killing its group by pid is safe here).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/hooks/hooks.h"
#include "common/hooks/limits.h"
#include "common/io.h"
#include "common/spawn.h"
#include "common/unique_fd.h"

namespace hull::hooks {
namespace {

using Clock = std::chrono::steady_clock;

// The hook's whole process group goes with it on every path but the one
// that reaped it (disarm()): the timeout, an error while waiting. Its pid,
// which names the group, cannot be reused while it is not reaped.
class GroupKiller {
 public:
  explicit GroupKiller(ChildProcess& hook) : hook_(hook) {}
  ~GroupKiller() {
    if (armed_ && hook_.valid()) kill();
  }
  GroupKiller(const GroupKiller&) = delete;
  GroupKiller& operator=(const GroupKiller&) = delete;
  void kill() { ::kill(-hook_.pid(), SIGKILL); }
  void disarm() { armed_ = false; }

 private:
  ChildProcess& hook_;
  bool armed_ = true;
};

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
  return fd;
}

struct Pipe {
  UniqueFd rd, wr;
};

// A pipe whose read end (ours) is non-blocking; the hook's end stays blocking.
Result<Pipe> output_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe2");
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1])};
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

Outcome outcome_of(const ExitStatus& st) {
  Outcome o;
  o.exit_code = st.code;
  o.signaled = st.signaled;
  o.signal = st.signal;
  return o;
}

}  // namespace

Result<Outcome> run_one(const Hook& hook, std::string_view state, int cwd_fd) {
  if (hook.path.empty()) return fail(Errc::Invalid, "hook has no path");
  HULL_ASSIGN(in, state_fd(state));
  HULL_ASSIGN(out, output_pipe());
  HULL_ASSIGN(err, output_pipe());

  SpawnOptions spawn_opts;
  spawn_opts.path = hook.path;
  spawn_opts.argv =
      hook.args && !hook.args->empty() ? *hook.args : std::vector<std::string>{hook.path};
  spawn_opts.env = hook.env;
  spawn_opts.fds = {{in.get(), 0}, {out.wr.get(), 1}, {err.wr.get(), 2}};
  spawn_opts.cwd_fd = cwd_fd;
  spawn_opts.group = ProcessGroup::NewGroup;
  auto spawned = spawn("hook", spawn_opts);
  if (!spawned) {
    // hooks.h's words: the caller names the hook, this says why.
    Error e = std::move(spawned.error());
    if (e.code != Errc::Invalid) e.msg = "cannot execute";
    return fail(std::move(e));
  }
  ChildProcess child = std::move(*spawned);
  GroupKiller group(child);
  in.reset();
  out.wr.reset();
  err.wr.reset();

  Outcome captured;
  bool out_open = true, err_open = true;
  std::optional<Clock::time_point> deadline;
  if (hook.timeout) deadline = Clock::now() + *hook.timeout;
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        group.kill();
        child.kill_and_reap();
        return fail(Errc::Timeout,
                    "timed out after " + std::to_string(hook.timeout->count()) + " s");
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left.count(), 60'000));
    }
    pollfd p[3] = {{child.pidfd(), POLLIN, 0},
                   {out_open ? out.rd.get() : -1, POLLIN, 0},
                   {err_open ? err.rd.get() : -1, POLLIN, 0}};
    int n = ::poll(p, 3, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("poll");
    if (p[1].revents) out_open = read_some(out.rd, captured.stdout_tail);
    if (p[2].revents) err_open = read_some(err.rd, captured.stderr_tail);
    if (p[0].revents) break;
  }
  auto status = child.poll_exit();
  group.disarm();
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
