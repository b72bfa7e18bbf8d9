#include "shim/io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "agent/proto/constants.h"
#include "common/log.h"
#include "runtime/sandbox/agent_reply.h"

namespace hull::shim {
namespace {

constexpr std::chrono::milliseconds kStdinCallTimeout{5000};
constexpr int kPollSliceMs = 100;

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
    return StdioTarget{TargetKind::Fifo, std::string(uri)};
  }
  std::string_view scheme = uri.substr(0, scheme_end);
  std::string_view rest = uri.substr(scheme_end + 3);
  if (scheme == "fifo" || scheme == "file") {
    if (rest.empty() || rest[0] != '/') {
      return fail(Errc::Invalid, "stdio " + std::string(uri) + ": the path must be absolute");
    }
    if (auto q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
    return StdioTarget{scheme == "file" ? TargetKind::File : TargetKind::Fifo, std::string(rest)};
  }
  if (scheme == "binary") {
    return fail(Errc::Unsupported, "stdio " + std::string(uri) +
                                       ": logging binaries (binary://) are not supported by the "
                                       "hull shim; use a fifo or file:// instead");
  }
  return fail(Errc::Invalid, "stdio " + std::string(uri) + ": unknown scheme \"" +
                                 std::string(scheme) + "\" (fifo paths, file:// are supported)");
}

Result<std::unique_ptr<IoRelay>> IoRelay::open(const StdioPaths& paths) {
  std::unique_ptr<IoRelay> r(new IoRelay());
  r->terminal_ = paths.terminal;
  HULL_ASSIGN(in, parse_stdio_path(paths.in));
  HULL_ASSIGN(out, parse_stdio_path(paths.out));
  HULL_ASSIGN(err, parse_stdio_path(paths.terminal ? std::string() : paths.err));
  if (in.kind == TargetKind::File) {
    return fail(Errc::Invalid, "stdin " + paths.in + ": must be a fifo, not a file");
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

void IoRelay::start(agent::Agent::Stub& stub, const std::string& container_id,
                    const std::string& exec_id) {
  std::lock_guard lk(mu_);
  if (started_ || stop_) return;
  started_ = true;
  stub_ = &stub;
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
  agent::ProcessRequest req;
  req.set_container_id(container_id_);
  req.set_exec_id(exec_id_);
  grpc::ClientContext ctx;
  if (CancelScope scope(calls_, &ctx); scope) {
    auto reader = stderr_stream ? stub_->ReadStderr(&ctx, req) : stub_->ReadStdout(&ctx, req);
    agent::IoChunk chunk;
    while (reader->Read(&chunk)) {
      if (auto st = sandbox::check_io_chunk(chunk, call); !st) {
        log::warn(std::string(call) + " of " + container_id_ + ": " + st.error().what());
        ctx.TryCancel();
        break;
      }
      if (fd >= 0 && !write_output(fd, chunk.data())) {
        ctx.TryCancel();
        break;
      }
    }
    grpc::Status st = reader->Finish();
    if (!st.ok() && !stop_ && st.error_code() != grpc::StatusCode::CANCELLED) {
      log::debug(std::string(call) + " of " + container_id_ + " " + exec_id_ +
                 " ended: " + sandbox::agent_error(st, call).what());
    }
  }
  std::lock_guard lk(mu_);
  // The reader sees EOF now.
  (stderr_stream ? err_ : out_).reset();
  --outputs_running_;
  cv_.notify_all();
}

Status IoRelay::send_stdin(std::string_view data) {
  while (!data.empty()) {
    if (stop_) return fail(Errc::NotRunning, "stdin relay stopped");
    const size_t n = std::min(data.size(), agent::kMaxIoChunkBytes);
    agent::WriteStdinRequest req;
    req.set_container_id(container_id_);
    req.set_exec_id(exec_id_);
    req.set_data(data.data(), n);
    agent::WriteStdinResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kStdinCallTimeout);
    CancelScope scope(calls_, &ctx);
    if (!scope) return fail(Errc::NotRunning, "stdin relay stopped");
    grpc::Status st = stub_->WriteStdin(&ctx, req, &resp);
    if (!st.ok()) {
      if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) continue;  // not reading yet
      return fail(sandbox::agent_error(st, "WriteStdin"));
    }
    HULL_ASSIGN(written, sandbox::parse_written(resp, n));
    if (written == 0) std::this_thread::sleep_for(std::chrono::milliseconds(kPollSliceMs));
    data.remove_prefix(written);
  }
  return {};
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
  agent::ProcessRequest req;
  req.set_container_id(container_id_);
  req.set_exec_id(exec_id_);
  agent::Empty out;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kStdinCallTimeout);
  if (CancelScope scope(calls_, &ctx); scope) (void)stub_->CloseStdin(&ctx, req, &out);
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
  std::lock_guard lk(mu_);
  in_.reset();
  out_.reset();
  err_.reset();
}

void IoRelay::join() {
  for (std::thread* t : {&out_thread_, &err_thread_, &in_thread_}) {
    if (t->joinable() && t->get_id() != std::this_thread::get_id()) t->join();
  }
}

}  // namespace hull::shim
