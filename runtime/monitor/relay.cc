#include "runtime/monitor/relay.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>

#include "common/io.h"
#include "common/log.h"

namespace hull::container {

void Relay::handle_signal(int sig) {
  if (sig == SIGWINCH) {
    if (fds_.tty < 0) return;
    winsize ws{};
    if (::ioctl(fds_.tty, TIOCGWINSZ, &ws) != 0) return;
    if (auto st = guest_.resize_tty(id_, exec_id_, ws.ws_row, ws.ws_col); !st) {
      log::warn("resizing the terminal: " + st.error().what());
    }
    return;
  }
  if (sig == SIGCHLD || sig == SIGPIPE) return;  // ours, not the container's
  if (auto st = guest_.signal(id_, exec_id_, sig, false); !st) {
    log::warn("forwarding signal " + std::to_string(sig) + ": " + st.error().what());
  }
}

Result<ExitStatus> Relay::run() {
  // Shared with the threads; they may outlive run() (stdin blocked in read),
  // so everything they touch lives in a shared block.
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    int outputs_open = 0;
    std::optional<Result<ExitStatus>> exit;
  };
  auto sh = std::make_shared<Shared>();
  UniqueFd done(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!done) return fail_errno("monitor: eventfd");
  int done_fd = done.get();

  using sandbox::OutputStream;
  std::vector<OutputStream> streams{OutputStream::Stdout};
  if (!terminal_) streams.push_back(OutputStream::Stderr);
  sh->outputs_open = static_cast<int>(streams.size());
  std::vector<std::thread> readers;
  for (OutputStream s : streams) {
    int fd = s == OutputStream::Stdout ? fds_.out : fds_.err;
    readers.emplace_back([g = &guest_, id = id_, eid = exec_id_, sh, s, fd] {
      // A reader that has gone (the fd's write failed) ends the stream quietly.
      auto st = g->read_output(id, eid, s, [fd](std::string_view chunk) -> Status {
        if (fd < 0 || write_all(fd, chunk)) return {};
        return fail(Errc::NotRunning, "the output's reader has gone");
      });
      if (!st && st.error().code != Errc::NotRunning) {
        log::warn(std::string(s == OutputStream::Stdout ? "stdout" : "stderr") +
                  " relay: " + st.error().what());
      }
      std::lock_guard lk(sh->mu);
      --sh->outputs_open;
      sh->cv.notify_all();
    });
  }
  if (fds_.in >= 0) {
    // Detached: a read on the caller's stdin cannot be interrupted portably,
    // and the process ends without it. It only touches fds_.in and the guest.
    std::thread([g = &guest_, id = id_, eid = exec_id_, in = fds_.in] {
      std::string buf(kStdinChunkBytes, '\0');
      for (;;) {
        ssize_t n = ::read(in, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
          pollfd p{in, POLLIN, 0};
          (void)::poll(&p, 1, -1);
          continue;
        }
        if (n <= 0) break;
        if (!g->write_stdin(id, eid, std::span<const char>(buf.data(), static_cast<size_t>(n)))) {
          return;
        }
      }
      (void)g->close_stdin(id, eid);
    }).detach();
  }
  std::thread waiter([g = &guest_, id = id_, eid = exec_id_, sh, done_fd] {
    auto r = g->wait(id, eid);
    {
      std::lock_guard lk(sh->mu);
      sh->exit = std::move(r);
    }
    uint64_t one = 1;
    (void)::write(done_fd, &one, sizeof one);
  });

  for (;;) {
    pollfd p[2] = {{done_fd, POLLIN, 0}, {fds_.signal_fd, POLLIN, 0}};
    int n = ::poll(p, fds_.signal_fd >= 0 ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (p[0].revents) break;
    if (fds_.signal_fd >= 0 && p[1].revents) {
      signalfd_siginfo si{};
      if (::read(fds_.signal_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        handle_signal(static_cast<int>(si.ssi_signo));
      }
    }
  }
  waiter.join();
  {
    std::unique_lock lk(sh->mu);
    sh->cv.wait_for(lk, kOutputDrain, [&] { return sh->outputs_open == 0; });
  }
  for (auto& t : readers) {
    // A reader still blocked after the drain time would keep us forever.
    std::lock_guard lk(sh->mu);
    if (sh->outputs_open == 0) {
      t.join();
    } else {
      t.detach();
    }
  }
  std::lock_guard lk(sh->mu);
  return std::move(*sh->exit);
}

}  // namespace hull::container
