#include "runtime/vm/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>

#include "common/spawn.h"
#include "common/unix_socket.h"
#include "runtime/jail/plans.h"
#include "runtime/vm/log_tail.h"

namespace hull::vm {

namespace {

using Clock = std::chrono::steady_clock;

// Number the child sees an inherited descriptor as.
constexpr int kChildFd = 3;

// Where a child's stdout+stderr go: a copy of log_fd, or the file at log_path.
Result<UniqueFd> output_for(int log_fd, const std::string& log_path) {
  if (log_fd < 0) return open_output_log(log_path);
  UniqueFd fd(::fcntl(log_fd, F_DUPFD_CLOEXEC, 3));
  if (!fd) return fail_errno("duplicating the descriptor of the log " + log_path);
  return fd;
}

Error with_log(Error e, const std::string& what, const std::string& log_path) {
  std::string tail = tail_file(log_path, kErrorLogLines);
  if (!tail.empty()) e.msg += "; " + what + ": " + tail;
  return e;
}

}  // namespace

std::string describe_exit(ChildProcess& p, const std::string& log_path) {
  auto st = p.poll_exit();
  if (!st) return "";
  std::string s = p.name() + " " + st->describe();
  std::string tail = tail_file(log_path, kErrorLogLines);
  if (!tail.empty()) s += "; " + p.name() + " output: " + tail;
  return s;
}

namespace {

// A jailed child: runtime/jail's jailer step before exec, PID 1 of its own
// PID namespace, and the jail's environment.
void confine(SpawnOptions& o, const jail::Jail* jail) {
  if (!jail) return;
  o.pre_exec = jail::enter_hook;
  o.pre_exec_arg = jail;
  o.env = jail::jail_env();
  o.new_pid_namespace = true;
}

}  // namespace

Result<ChildProcess> start_hull_vsock(const VsockLaunch& l) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  HULL_ASSIGN(log, output_for(l.log_fd, l.log_path));
  SpawnOptions o;
  o.argv = {l.binary,
            "--socket",
            l.vhost_user_socket,
            "--uds",
            l.uds_path,
            "--cid",
            std::to_string(l.guest_cid),
            "--ready-fd",
            std::to_string(kChildFd)};
  o.fds = {{log.get(), 1}, {log.get(), 2}, {wr.get(), kChildFd}};
  UniqueFd vhost_listener, uds_listener;
  if (l.jail) {
    HULL_ASSIGN(v, wrap(listen_unix(l.vhost_user_socket, 1), "hull-vsock socket"));
    HULL_ASSIGN(u, wrap(listen_unix(l.uds_path, 128), "hull-vsock socket"));
    vhost_listener = std::move(v);
    uds_listener = std::move(u);
    o.fds.push_back({vhost_listener.get(), kChildFd + 1});
    o.fds.push_back({uds_listener.get(), kChildFd + 2});
    o.argv.insert(o.argv.end(), {"--socket-fd", std::to_string(kChildFd + 1), "--uds-fd",
                                 std::to_string(kChildFd + 2)});
  }
  confine(o, l.jail);
  HULL_ASSIGN(child, spawn("hull-vsock", o));
  wr.reset();

  // Read "ready\n"; EOF or the process ending first means it failed.
  auto deadline = Clock::now() + l.ready_timeout;
  std::string line;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return fail(with_log(Error{Errc::Timeout, 0,
                                 "hull-vsock did not report ready within " +
                                     std::to_string(l.ready_timeout.count()) + " ms"},
                           "hull-vsock output", l.log_path));
    }
    pollfd pf{rd.get(), POLLIN, 0};
    if (::poll(&pf, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return fail_errno("poll on hull-vsock's ready pipe");
    }
    if (!(pf.revents & (POLLIN | POLLHUP))) continue;
    char buf[16];
    ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      (void)child.wait_for(std::chrono::milliseconds(1000));
      std::string why = describe_exit(child, l.log_path);
      return fail(Errc::NotRunning, "hull-vsock closed its ready pipe without \"ready\"" +
                                        (why.empty() ? std::string() : ": " + why));
    }
    line.append(buf, static_cast<size_t>(n));
    if (line.size() > 64) break;
  }
  if (line != "ready\n") {
    return fail(Errc::GuestProtocol, "hull-vsock: unexpected readiness line");
  }
  return child;
}

namespace {

// virtiofsd's pre-exec step: a mount namespace of its own (a slave of the
// host's, so the containers' binds made later below the shared dir still
// reach it), in which the shared dir's top mount is read-only. The guest then
// cannot create, rename or remove anything at the share's top or in the
// directories hull makes below it (containers/<id>/...): only the rootfs and
// volume binds, each with its own flags, are writable. hull keeps writing to
// the same directories through the host's (writable) mount.
int read_only_share_top(const void* arg, const char** step) noexcept {
  const char* dir = static_cast<const char*>(arg);
  if (::unshare(CLONE_NEWNS) != 0) {
    *step = "unshare(CLONE_NEWNS)";
    return -1;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    *step = "making / a slave mount";
    return -1;
  }
  if (::mount(nullptr, dir, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV | MS_NOSUID,
              nullptr) != 0) {
    *step = "making the shared directory read-only";
    return -1;
  }
  return 0;
}

}  // namespace

Result<ChildProcess> start_virtiofsd(const VirtiofsdLaunch& l) {
  HULL_ASSIGN(sock, wrap(listen_unix(l.socket_path, 1), "virtiofsd socket"));
  VirtiofsdSpec spec = l.spec;
  spec.socket_fd = kChildFd;
  HULL_ASSIGN(log, output_for(l.log_fd, l.log_path));
  SpawnOptions o;
  o.argv = virtiofsd_argv(spec);
  o.fds = {{log.get(), 1}, {log.get(), 2}, {sock.get(), kChildFd}};
  o.new_pid_namespace = true;
  o.pre_exec = read_only_share_top;
  o.pre_exec_arg = spec.source_dir.c_str();
  return spawn("virtiofsd", o);
}

Result<ChildProcess> start_qemu(const QemuSpec& spec, const std::string& log_path,
                                const std::vector<std::pair<int, int>>& inherit_fds,
                                const jail::Jail* jail, int log_fd) {
  HULL_ASSIGN(log, output_for(log_fd, log_path));
  SpawnOptions o;
  o.argv = qemu_argv(spec);
  o.fds = {{log.get(), 1}, {log.get(), 2}};
  for (auto [parent, child] : inherit_fds) o.fds.push_back({parent, child});
  confine(o, jail);
  return spawn("qemu", o);
}

}  // namespace hull::vm
