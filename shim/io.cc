#include "shim/io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

#include "common/log.h"
#include "common/spawn.h"

namespace hull::shim {
namespace {

constexpr std::chrono::milliseconds kStdinCallTimeout{5000};
constexpr int kPollSliceMs = 100;
// After the readiness pipe's EOF: how long to look whether that was the
// logger exiting (its pidfd turns readable just after its fds are closed).
constexpr int kLoggerExitCheckMs = 100;

// %XX escapes decoded (and '+' as a space in a query, as Go's url package
// reads it); nullopt for a bad escape.
std::optional<std::string> percent_decode(std::string_view s, bool query) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+' && query) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// binary:// after the scheme: "/abs/path?k=v&k2".
Result<StdioTarget> parse_binary(std::string_view uri, std::string_view rest) {
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  std::string_view path = rest, query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
  }
  if (path.size() < 2 || path[0] != '/') {
    return fail(Errc::Invalid, "stdio " + std::string(uri) +
                                   ": a logging binary is named by its absolute path and no "
                                   "host: binary:///path/to/logger?key=value");
  }
  StdioTarget t{TargetKind::Binary, {}, {}};
  auto decoded = percent_decode(path, false);
  if (!decoded) {
    return fail(Errc::Invalid, "stdio " + std::string(uri) + ": bad %-escape in the path");
  }
  t.path = std::move(*decoded);
  std::vector<std::string> seen;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key || !value) {
      return fail(Errc::Invalid,
                  "stdio " + std::string(uri) + ": bad %-escape in \"" + std::string(pair) + "\"");
    }
    // A key given twice: its first value (containerd passes one per key).
    if (key->empty() || std::find(seen.begin(), seen.end(), *key) != seen.end()) continue;
    seen.push_back(*key);
    t.args.push_back(std::move(*key));
    t.args.push_back(std::move(*value));
  }
  return t;
}

struct Pipe {
  UniqueFd r, w;
};

Result<Pipe> make_pipe(const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe for " + what);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Waits up to `ms` for the child to end, without reaping it.
bool wait_ended(const ChildProcess& c, int ms) {
  pollfd p{c.pidfd(), POLLIN, 0};
  for (;;) {
    const int n = ::poll(&p, 1, ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

Result<UniqueFd> open_output(const StdioTarget& t) {
  if (t.kind == TargetKind::None) return UniqueFd();
  if (t.kind == TargetKind::File) {
    UniqueFd fd(::open(t.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    if (!fd) return fail_errno("opening the output file " + t.path);
    return fd;
  }
  // The client opened the read side already; O_NONBLOCK keeps a fifo nobody
  // reads from blocking the open, and the copy from blocking the shim.
  UniqueFd fd(::open(t.path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd && errno == ENXIO) {
    // No reader yet: hold both ends, so a reader that comes later finds the fifo open.
    fd.reset(::open(t.path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  }
  if (!fd) return fail_errno("opening the output fifo " + t.path);
  return fd;
}

}  // namespace

Result<StdioTarget> parse_stdio_path(std::string_view uri) {
  if (uri.empty()) return StdioTarget{};
  const size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) {
    if (uri[0] != '/') {
      return fail(Errc::Invalid, "stdio path \"" + std::string(uri) + "\" is not absolute");
    }
    return StdioTarget{TargetKind::Fifo, std::string(uri), {}};
  }
  std::string_view scheme = uri.substr(0, scheme_end);
  std::string_view rest = uri.substr(scheme_end + 3);
  if (scheme == "fifo" || scheme == "file") {
    if (rest.empty() || rest[0] != '/') {
      return fail(Errc::Invalid, "stdio " + std::string(uri) + ": the path must be absolute");
    }
    if (auto q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
    return StdioTarget{
        scheme == "file" ? TargetKind::File : TargetKind::Fifo, std::string(rest), {}};
  }
  if (scheme == "binary") return parse_binary(uri, rest);
  return fail(Errc::Invalid, "stdio " + std::string(uri) + ": unknown scheme \"" +
                                 std::string(scheme) +
                                 "\" (fifo paths, file://, binary:// are supported)");
}

Result<std::unique_ptr<IoRelay>> IoRelay::open(const StdioPaths& paths, const LoggerEnv& logger) {
  std::unique_ptr<IoRelay> r(new IoRelay());
  r->terminal_ = paths.terminal;
  HULL_ASSIGN(in, parse_stdio_path(paths.in));
  HULL_ASSIGN(out, parse_stdio_path(paths.out));
  const std::string err_path = paths.terminal ? std::string() : paths.err;
  HULL_ASSIGN(err, parse_stdio_path(err_path));
  if (in.kind == TargetKind::File || in.kind == TargetKind::Binary) {
    return fail(Errc::Invalid, "stdin " + paths.in + ": must be a fifo");
  }
  if (err.kind == TargetKind::Binary && err_path != paths.out) {
    return fail(Errc::Invalid, "stderr " + err_path +
                                   ": a logging binary is given as stdout (and the same URI or "
                                   "nothing as stderr); it gets both streams");
  }
  if (out.kind == TargetKind::Binary) {
    if (!err_path.empty() && err_path != paths.out) {
      return fail(Errc::Invalid, "stderr " + err_path + ": stdout is the logging binary " +
                                     paths.out + ", which gets stderr too; give it as stderr " +
                                     "as well, or nothing");
    }
    HULL_TRY(r->start_logger(out, logger));
    r->wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!r->wake_) return fail_errno("eventfd for a stdin relay");
    if (in.kind == TargetKind::Fifo) {
      r->in_.reset(::open(in.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
      if (!r->in_) return fail_errno("opening the stdin fifo " + in.path);
    }
    return r;
  }
  if (in.kind == TargetKind::Fifo) {
    // Read side of a fifo: opening never blocks; the client's writer opens after it.
    r->in_.reset(::open(in.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!r->in_) return fail_errno("opening the stdin fifo " + in.path);
  }
  HULL_ASSIGN(o, open_output(out));
  r->out_ = std::move(o);
  HULL_ASSIGN(e, open_output(err));
  r->err_ = std::move(e);
  r->wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!r->wake_) return fail_errno("eventfd for a stdin relay");
  return r;
}

IoRelay::~IoRelay() {
  stop();
}

Status IoRelay::start_logger(const StdioTarget& t, const LoggerEnv& env) {
  HULL_ASSIGN(out, make_pipe("the logging binary's stdout"));
  HULL_ASSIGN(err, make_pipe("the logging binary's stderr"));
  HULL_ASSIGN(ready, make_pipe("the logging binary's readiness"));
  SpawnOptions o;
  o.path = t.path;
  o.argv.push_back(t.path);
  o.argv.insert(o.argv.end(), t.args.begin(), t.args.end());
  o.env = std::vector<std::string>{"CONTAINER_ID=" + env.id, "CONTAINER_NAMESPACE=" + env.ns};
  o.fds = {{out.r.get(), 3}, {err.r.get(), 4}, {ready.w.get(), 5}};
  // Its own session (and so process group): whatever it forks is killed with it.
  o.group = ProcessGroup::NewSession;
  HULL_ASSIGN(child, spawn("logging binary " + t.path, o));
  logger_ = std::move(child);
  ready.w.reset();
  out.r.reset();
  err.r.reset();
  if (terminal_) err.w.reset();  // one stream with a terminal: fd 4 is at EOF

  // Ready: a byte on fd 5, or fd 5 closed while the logger runs on.
  std::string failure;
  const auto deadline = std::chrono::steady_clock::now() + kLoggerReadyTimeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      failure = "did not signal that it is ready (a byte written to fd 5, or fd 5 closed) within " +
                std::to_string(kLoggerReadyTimeout.count() / 1000) + " s";
      break;
    }
    pollfd p[2] = {{ready.r.get(), POLLIN, 0}, {logger_.pidfd(), POLLIN, 0}};
    const int n = ::poll(p, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failure = std::string("waiting for it: poll: ") + std::strerror(errno);
      break;
    }
    if (n == 0) continue;
    if (p[0].revents != 0) {
      char byte = 0;
      const ssize_t got = ::read(ready.r.get(), &byte, 1);
      if (got < 0 && errno == EINTR) continue;
      if (got == 1 || !wait_ended(logger_, kLoggerExitCheckMs)) break;  // ready
    }
    // It ended before it was ready: no logger for the process's output.
    (void)::kill(-logger_.pid(), SIGKILL);  // not reaped yet: its group is still its own
    auto st = logger_.wait_for(kLoggerExitWait);
    failure = "exited (" + (st ? st->describe() : st.error().what()) +
              ") before it signalled that it is ready (a byte written to fd 5, or fd 5 closed)";
    logger_.kill_and_reap();
    break;
  }
  if (!failure.empty()) {
    if (logger_.valid()) {
      (void)::kill(-logger_.pid(), SIGKILL);
      logger_.kill_and_reap();
    }
    return fail(Errc::Invalid, "the logging binary " + t.path + " " + failure +
                                   "; check that it runs on its own, with the stdout pipe "
                                   "as fd 3, stderr as fd 4");
  }
  // The copy polls a full pipe, as it does a fifo nobody reads.
  for (int fd : {out.w.get(), err.w.get()}) {
    if (fd >= 0 && ::fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
      return fail_errno("making the logging binary's pipe non-blocking");
    }
  }
  out_ = std::move(out.w);
  err_ = std::move(err.w);
  return {};
}

void IoRelay::stop_logger() {
  if (!logger_.valid()) return;
  // Its pipes are closed now: it has read everything and should end.
  if (!wait_ended(logger_, static_cast<int>(kLoggerExitWait.count()))) {
    (void)::kill(-logger_.pid(), SIGTERM);
    if (!wait_ended(logger_, static_cast<int>(kLoggerExitWait.count()))) {
      log::warn(logger_.name() + " (pid " + std::to_string(logger_.pid()) +
                ") did not exit after the output ended and SIGTERM; killing it");
    }
  }
  // Not reaped yet, so its group id is still its own: what it left running goes too.
  (void)::kill(-logger_.pid(), SIGKILL);
  logger_.kill_and_reap();
}

void IoRelay::start(sandbox::ContainerClient& client, const std::string& container_id,
                    const std::string& exec_id) {
  std::lock_guard lk(mu_);
  if (started_ || stop_) return;
  started_ = true;
  client_ = &client;
  container_id_ = container_id;
  exec_id_ = exec_id;
  outputs_running_ = terminal_ ? 1 : 2;
  out_thread_ = std::thread([this, fd = out_.get()] { copy_output(false, fd); });
  if (!terminal_) err_thread_ = std::thread([this, fd = err_.get()] { copy_output(true, fd); });
  if (in_) in_thread_ = std::thread([this] { copy_input(); });
}

bool IoRelay::write_output(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (stop_) return false;
      pollfd p{fd, POLLOUT, 0};
      (void)::poll(&p, 1, kPollSliceMs);
      continue;
    }
    // EPIPE: nobody reads now (the client went away): this chunk is lost.
    return true;
  }
  return true;
}

void IoRelay::copy_output(bool stderr_stream, int fd) {
  // A write to a fifo nobody reads raises SIGPIPE at this thread: blocked, it
  // is only EPIPE, whatever the process does with the signal.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  const char* call = stderr_stream ? "ReadStderr" : "ReadStdout";
  // The output is read (and dropped) even without a host end, so the
  // process never blocks on a full pipe.
  auto sink = [&](std::string_view chunk) -> Status {
    if (fd >= 0 && !write_output(fd, chunk)) return fail(Errc::NotRunning, "the relay stopped");
    return {};
  };
  Status st = client_->read_output(
      container_id_, exec_id_,
      stderr_stream ? sandbox::OutputStream::Stderr : sandbox::OutputStream::Stdout, sink,
      sandbox::kWaitForever, &calls_);
  if (!st && !stop_) {
    if (st.error().code == Errc::GuestProtocol) {
      log::warn(std::string(call) + " of " + container_id_ + ": " + st.error().what());
    } else {
      log::debug(std::string(call) + " of " + container_id_ + " " + exec_id_ +
                 " ended: " + st.error().what());
    }
  }
  std::lock_guard lk(mu_);
  // The reader sees EOF now.
  (stderr_stream ? err_ : out_).reset();
  --outputs_running_;
  cv_.notify_all();
}

Status IoRelay::send_stdin(std::string_view data) {
  if (stop_) return fail(Errc::NotRunning, "stdin relay stopped");
  // The agent holds the call until the process has taken all of it; only
  // stop() (the Canceller) or the process's end cuts it short.
  return client_->write_stdin(container_id_, exec_id_, data, sandbox::kWaitForever, &calls_);
}

void IoRelay::copy_input() {
  std::string buf(kStdinChunkBytes, '\0');
  for (;;) {
    pollfd p[2] = {{in_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) break;
    if (stop_) return;  // teardown: the process is going away anyway
    const bool closing = close_in_;
    if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0 && !closing) continue;
    ssize_t n = ::read(in_.get(), buf.data(), buf.size());
    if (n > 0) {
      if (auto st = send_stdin(std::string_view(buf.data(), static_cast<size_t>(n))); !st) {
        if (!stop_) log::debug("stdin of " + container_id_ + ": " + st.error().what());
        break;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && !closing) continue;
    break;  // EOF (every writer closed), or CloseIO and nothing left
  }
  if (stop_) return;
  (void)client_->close_stdin(container_id_, exec_id_, kStdinCallTimeout, &calls_);
}

void IoRelay::close_stdin() {
  close_in_ = true;
  uint64_t one = 1;
  if (wake_) (void)::write(wake_.get(), &one, sizeof one);
}

bool IoRelay::wait_outputs(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  if (!started_) return true;
  return cv_.wait_for(lk, timeout, [&] { return outputs_running_ == 0; });
}

void IoRelay::finish(std::chrono::milliseconds drain) {
  {
    std::unique_lock lk(mu_);
    if (started_) cv_.wait_for(lk, drain, [&] { return outputs_running_ == 0; });
  }
  stop();
}

void IoRelay::stop() {
  std::lock_guard stopping(stop_mu_);
  stop_ = true;
  uint64_t one = 1;
  if (wake_) (void)::write(wake_.get(), &one, sizeof one);
  calls_.cancel();
  join();
  {
    std::lock_guard lk(mu_);
    in_.reset();
    out_.reset();
    err_.reset();
  }
  stop_logger();
}

void IoRelay::join() {
  for (std::thread* t : {&out_thread_, &err_thread_, &in_thread_}) {
    if (t->joinable() && t->get_id() != std::this_thread::get_id()) t->join();
  }
}

}  // namespace hull::shim
