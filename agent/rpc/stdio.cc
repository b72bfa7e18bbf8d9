#include "agent/rpc/stdio.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/io.h"

namespace hull::agent::rpc {

namespace {

constexpr int kStdinPollMs = 100;

// A pipe: {read end, write end}, both O_CLOEXEC.
Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("pipe2");
  return std::pair{UniqueFd(p[0]), UniqueFd(p[1])};
}

class OutputStream;

}  // namespace

// What the io loop's handler and the reactor share; the reactor may be gone
// (OnDone) while the loop still holds this.
struct StreamCore {
  std::recursive_mutex mu;  // the io loop's handler vs the call queue's reactions
  OutputStream* reactor = nullptr;
  IoLoop* loop = nullptr;
  IoLoop::Token token = 0;
  std::shared_ptr<OutputPipe> pipe;
  std::shared_ptr<UniqueFd> fd;
  IoChunk msg;
  bool writing = false;
  bool finished = false;
  bool cancelled = false;
};

namespace {

class OutputStream final : public StreamReactor<IoChunk> {
 public:
  OutputStream(IoLoop& loop, std::shared_ptr<OutputPipe> pipe)
      : core_(std::make_shared<StreamCore>()) {
    core_->reactor = this;
    core_->loop = &loop;
    core_->pipe = std::move(pipe);
    std::lock_guard lock(core_->mu);
    std::shared_ptr<StreamCore> old;
    {
      std::lock_guard plock(core_->pipe->mu);
      old = core_->pipe->reader.lock();
    }
    if (old) take_over(*old);
    {
      std::lock_guard plock(core_->pipe->mu);
      if (!core_->pipe->fd) {  // EOF was already read, or there is no such stream
        finish(grpc::Status::OK);
        return;
      }
      core_->pipe->reader = core_;
      core_->fd = core_->pipe->fd;
    }
    std::weak_ptr<StreamCore> weak = core_;
    auto token =
        loop.add(core_->fd->get(), EPOLLIN, [weak](uint32_t) { on_readable(weak.lock()); });
    if (!token) {
      finish(grpc::Status(grpc::StatusCode::INTERNAL, token.error().what()));
      return;
    }
    core_->token = *token;
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(core_->mu);
    core_->writing = false;
    if (core_->finished) return;
    if (!ok || core_->cancelled) {
      finish(grpc::Status(grpc::StatusCode::CANCELLED, "the reader went away"));
      return;
    }
    if (auto st = core_->loop->rearm(core_->token, EPOLLIN); !st) {
      finish(grpc::Status(grpc::StatusCode::INTERNAL, st.error().what()));
    }
  }

  void OnCancel() override {
    std::lock_guard lock(core_->mu);
    core_->cancelled = true;
    if (!core_->writing && !core_->finished) {
      finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
  }

  void OnDone() override {
    {
      std::lock_guard lock(core_->mu);
      core_->reactor = nullptr;
    }
    {
      std::lock_guard lock(core_->mu);
      if (core_->token) core_->loop->remove(core_->token);
      core_->token = 0;
    }
    {
      std::lock_guard plock(core_->pipe->mu);
      if (core_->pipe->reader.lock() == core_) core_->pipe->reader.reset();
    }
    delete this;
  }

 private:
  // A new reader ends `old` (the fd leaves the loop at once: one watch per fd).
  void take_over(StreamCore& old) {
    std::lock_guard olock(old.mu);
    if (old.token) old.loop->remove(old.token);
    old.token = 0;
    old.cancelled = true;
    if (old.reactor && !old.finished && !old.writing) {
      old.reactor->finish(
          grpc::Status(grpc::StatusCode::ABORTED, "another reader took over this output"));
    }
  }

  // Under core_->mu.
  void finish(const grpc::Status& st) {
    core_->finished = true;
    Finish(st);
  }

  // On the io loop's thread: one chunk, or EOF.
  static void on_readable(const std::shared_ptr<StreamCore>& core) {
    if (!core) return;
    std::lock_guard lock(core->mu);
    OutputStream* r = core->reactor;
    if (!r || core->finished) return;
    if (core->cancelled) {
      r->finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      return;
    }
    // Size the read by what is there (FIONREAD), so a trickle of output does
    // not touch a whole chunk of memory.
    int avail = 0;
    size_t want = kStdioChunkBytes;
    if (::ioctl(core->fd->get(), FIONREAD, &avail) == 0 && avail > 0) {
      want = std::min(want, static_cast<size_t>(avail));
    }
    std::string* buf = core->msg.mutable_data();
    buf->resize(want);
    ssize_t n = ::read(core->fd->get(), buf->data(), buf->size());
    if (n > 0) {
      buf->resize(static_cast<size_t>(n));
      core->writing = true;
      r->StartWrite(&core->msg);
      return;
    }
    if (n == 0 || errno == EIO) {  // EOF (a pty says EIO once its last slave fd closed)
      {
        std::lock_guard plock(core->pipe->mu);
        if (core->pipe->fd == core->fd) core->pipe->fd.reset();
      }
      r->finish(grpc::Status::OK);
      return;
    }
    if (errno == EAGAIN || errno == EINTR) {
      // Idle: give the chunk buffer back until output comes again.
      std::string().swap(*buf);
      if (auto st = core->loop->rearm(core->token, EPOLLIN); st) return;
    }
    r->finish(grpc::Status(grpc::StatusCode::INTERNAL,
                           std::string("reading process output: ") + std::strerror(errno)));
  }

  std::shared_ptr<StreamCore> core_;
};

}  // namespace

Result<ChildEnds> make_pipes(ProcessIo& io, bool want_stdin) {
  ChildEnds child;
  if (want_stdin) {
    HULL_ASSIGN(p, make_pipe());
    HULL_TRY(set_nonblocking(p.second.get()));
    child.in = std::move(p.first);
    io.in->fd = std::make_shared<UniqueFd>(std::move(p.second));
  }
  for (auto [pipe, end] : {std::pair{&io.out, &child.out}, std::pair{&io.err, &child.err}}) {
    HULL_ASSIGN(p, make_pipe());
    HULL_TRY(set_nonblocking(p.first.get()));
    (void)::fcntl(p.first.get(), F_SETPIPE_SZ, kPipeBytes);  // a smaller pipe still works
    *end = std::move(p.second);
    (*pipe)->fd = std::make_shared<UniqueFd>(std::move(p.first));
  }
  return child;
}

void attach_pty(ProcessIo& io, UniqueFd master) {
  (void)set_nonblocking(master.get());
  auto fd = std::make_shared<UniqueFd>(std::move(master));
  io.in->fd = fd;
  io.in->pty = true;
  io.out->fd = fd;
  io.out->pty = true;
  io.err->fd.reset();  // stderr is merged into the terminal
}

Result<size_t> write_stdin(InputPipe& in, std::span<const char> data,
                           const std::function<bool()>& cancelled) {
  std::lock_guard lock(in.mu);
  if (!in.fd) return fail(Errc::InvalidState, "stdin is closed (or was not requested)");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(in.fd->get(), data.data() + off, data.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (off > 0) break;  // the pipe is full: report what went in
      if (cancelled()) break;
      pollfd p{in.fd->get(), POLLOUT, 0};
      (void)::poll(&p, 1, kStdinPollMs);
      continue;
    }
    if (off > 0) break;
    if (errno == EPIPE || errno == EIO) {
      return fail(Errc::NotRunning, "stdin: the process no longer reads it");
    }
    return fail_errno("writing stdin");
  }
  return off;
}

Status close_stdin(InputPipe& in) {
  std::lock_guard lock(in.mu);
  if (!in.fd) return {};
  if (!in.pty) {
    in.fd.reset();
    return {};
  }
  // A terminal has no separate stdin to close: send the EOF character.
  termios t{};
  char eof = 4;  // ^D
  if (::tcgetattr(in.fd->get(), &t) == 0 && t.c_cc[VEOF] != 0)
    eof = static_cast<char>(t.c_cc[VEOF]);
  for (int tries = 0; tries < 50; ++tries) {
    ssize_t n = ::write(in.fd->get(), &eof, 1);
    if (n == 1) return {};
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return fail_errno("sending EOF to the terminal");
    pollfd p{in.fd->get(), POLLOUT, 0};
    (void)::poll(&p, 1, kStdinPollMs);
  }
  return fail(Errc::Timeout, "the terminal takes no input (EOF not sent)");
}

StreamReactor<IoChunk>* stream_output(IoLoop& loop, std::shared_ptr<OutputPipe> out) {
  return new OutputStream(loop, std::move(out));
}

}  // namespace hull::agent::rpc
