#include "runtime/monitor/console.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/io.h"
#include "common/pidfd.h"
#include "common/unix_socket.h"
#include "runtime/container/container.h"
#include "runtime/monitor/relay.h"

namespace hull::container {
namespace {

constexpr size_t kConsoleChunkBytes = 64 * 1024;

// One read of `fd` into stdout: a single chunk per poll wakeup, so a
// container that writes faster than the terminal drains (`yes`) cannot keep
// the relay from stdin, signals and the monitor's end. False once `fd` has
// nothing more to give (EOF, EIO: the pty's other side is closed, or an
// error); `drained` tells whether it had nothing now (EAGAIN).
bool pump_once(int fd, std::string& buf, bool& stdout_ok, bool* drained = nullptr) {
  ssize_t n = 0;
  do {
    n = ::read(fd, buf.data(), buf.size());
  } while (n < 0 && errno == EINTR);
  bool again = n < 0 && errno == EAGAIN;
  if (drained) *drained = again;
  if (n > 0 && stdout_ok)
    stdout_ok = write_all(STDOUT_FILENO, std::string_view(buf.data(), n)).has_value();
  return n > 0 || again;
}

// What is left in `fd` once its writer has ended: a bounded amount.
void drain_to_stdout(int fd, std::string& buf, bool& stdout_ok) {
  bool drained = false;
  while (pump_once(fd, buf, stdout_ok, &drained) && !drained) {
  }
}

}  // namespace

Result<ConsoleReceiver> ConsoleReceiver::listen() {
  ConsoleReceiver r;
  char dir[] = "/tmp/hull-console-XXXXXX";
  if (!::mkdtemp(dir)) return fail_errno("creating a directory for the console socket in /tmp");
  r.dir_ = dir;
  r.path_ = r.dir_ + "/console.sock";
  HULL_ASSIGN(listener, wrap(listen_unix(r.path_, 1), "the console socket"));
  r.listener_ = std::move(listener);
  return r;
}

ConsoleReceiver::ConsoleReceiver(ConsoleReceiver&& o) noexcept
    : dir_(std::move(o.dir_)), path_(std::move(o.path_)), listener_(std::move(o.listener_)) {
  o.dir_.clear();
  o.path_.clear();
}

ConsoleReceiver::~ConsoleReceiver() {
  remove();
}

void ConsoleReceiver::remove() {
  listener_.reset();
  if (!path_.empty()) ::unlink(path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
  path_.clear();
  dir_.clear();
}

Result<UniqueFd> ConsoleReceiver::receive(std::chrono::milliseconds timeout) {
  if (!listener_) return fail(Errc::InvalidState, "the console socket is closed");
  pollfd p{listener_.get(), POLLIN, 0};
  int n = 0;
  do {
    n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("waiting on the console socket " + path_);
  if (n == 0) {
    return fail(Errc::Timeout, "the container's monitor sent no terminal to " + path_ + " within " +
                                   std::to_string(timeout.count()) + " ms");
  }
  UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return fail_errno("accepting on the console socket " + path_);
  char name[256];
  char cbuf[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{name, sizeof name};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t got = 0;
  do {
    got = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return fail_errno("receiving the terminal on " + path_);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      remove();
      return UniqueFd(fd);
    }
  }
  return fail(Errc::GuestProtocol,
              "the message on the console socket " + path_ + " carried no file descriptor");
}

RawTerminal::RawTerminal(int fd) {
  termios t{};
  if (!::isatty(fd) || ::tcgetattr(fd, &t) != 0) return;
  fd_ = fd;
  saved_ = t;
  ::cfmakeraw(&t);
  (void)::tcsetattr(fd, TCSANOW, &t);
}

RawTerminal::~RawTerminal() {
  if (saved_) (void)::tcsetattr(fd_, TCSANOW, &*saved_);
}

std::optional<winsize> caller_window_size() {
  for (int fd : {STDIN_FILENO, STDOUT_FILENO}) {
    winsize ws{};
    if (::isatty(fd) && ::ioctl(fd, TIOCGWINSZ, &ws) == 0) return ws;
  }
  return std::nullopt;
}

void copy_window_size(int master) {
  if (auto ws = caller_window_size()) (void)::ioctl(master, TIOCSWINSZ, &*ws);
}

Result<std::string> with_console_size(std::string_view process_json, const winsize& size) {
  auto proc = nlohmann::json::parse(process_json, nullptr, false);
  if (!proc.is_object()) return fail(Errc::Invalid, "exec: the process is not a JSON object");
  if (proc.contains("consoleSize") || size.ws_row == 0 || size.ws_col == 0) {
    return std::string(process_json);
  }
  proc["consoleSize"] = {{"height", size.ws_row}, {"width", size.ws_col}};
  return proc.dump();
}

sigset_t foreground_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGSTKFLT, SIGXCPU,
                  SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGWINCH}) {
    sigaddset(&set, sig);
  }
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
  return set;
}

ForegroundSignalsBlocked::ForegroundSignalsBlocked() {
  sigset_t set = foreground_signals();
  ::sigprocmask(SIG_BLOCK, &set, &old_);
}

ForegroundSignalsBlocked::~ForegroundSignalsBlocked() {
  sigset_t set = foreground_signals();
  timespec now{0, 0};
  while (::sigtimedwait(&set, nullptr, &now) > 0) {
  }
  ::sigprocmask(SIG_SETMASK, &old_, nullptr);
}

Result<int> relay_console(pid_t pid, int master) {
  sigset_t set = foreground_signals();
  sigaddset(&set, SIGPIPE);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  struct RestoreMask {
    sigset_t old;
    ~RestoreMask() {
      // A SIGPIPE from the last writes to a closed stdout is ours: dropped,
      // not left to end run before it deletes the container.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      timespec now{0, 0};
      while (::sigtimedwait(&pipe, nullptr, &now) > 0) {
      }
      ::sigprocmask(SIG_SETMASK, &old, nullptr);
    }
  } restore{old};
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) return fail_errno("console relay: signalfd");
  UniqueFd pfd(::pidfd_open(pid, 0));
  if (!pfd) return fail_errno("console relay: pidfd_open of the monitor " + std::to_string(pid));
  HULL_TRY(wrap(set_nonblocking(master), "console relay: the terminal"));

  std::string buf(kConsoleChunkBytes, '\0');
  std::string pending;  // read from stdin, not yet taken by the master
  bool in_open = true, master_open = true, stdout_ok = true;
  for (;;) {
    pollfd p[4] = {{pfd.get(), POLLIN, 0},
                   {sfd.get(), POLLIN, 0},
                   {master_open ? master : -1,
                    static_cast<short>(POLLIN | (pending.empty() ? 0 : POLLOUT)), 0},
                   {in_open && pending.empty() ? STDIN_FILENO : -1, POLLIN, 0}};
    int n = ::poll(p, 4, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("console relay: poll");
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      master_open = pump_once(master, buf, stdout_ok);
    }
    if (master_open && !pending.empty() && (p[2].revents & POLLOUT)) {
      ssize_t w = ::write(master, pending.data(), pending.size());
      if (w > 0) pending.erase(0, static_cast<size_t>(w));
      if (w < 0 && errno != EAGAIN && errno != EINTR) pending.clear();
    }
    if (!master_open) pending.clear();
    if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(STDIN_FILENO, buf.data(), buf.size());
      if (r > 0) {
        pending.assign(buf.data(), static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        in_open = false;  // as runc: the container keeps its terminal open
      }
    }
    if (p[1].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(sfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGWINCH) {
          copy_window_size(master);
        } else if (sig != SIGPIPE) {
          ::kill(pid, sig);  // our unreaped child: the pid is stable
        }
      }
    }
    if (p[0].revents) {
      // The monitor has drained the container's output into the pty before
      // it ended: what is left in the master is the rest.
      if (master_open) drain_to_stdout(master, buf, stdout_ok);
      break;
    }
  }
  return wait_child_monitor(pid);
}

}  // namespace hull::container
