// The shim daemon: what `start` re-executes, in the bundle of the pod's first
// task, in a session of its own, fd 3 the listening socket:
//
//   stderr -> the bundle's `log` fifo (containerd copies it to its own log)
//   Publisher -> $TTRPC_ADDRESS (events)
//   Service + ttrpc server on fd 3 -> until Shutdown with no task left (or
//   SIGTERM/SIGINT) -> stop the server, remove every task and the VM, flush
//   the events, remove the socket and the pod record -> exit 0
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "common/log.h"
#include "common/oci/spec.h"
#include "shim/address.h"
#include "shim/commands.h"
#include "shim/events.h"
#include "shim/record.h"
#include "shim/service.h"
#include "ttrpc/server.h"

namespace hull::shim {
namespace {

constexpr std::chrono::seconds kFlushTimeout{3};

// containerd opened the fifo's read side before `start`, so this does not
// block; O_NONBLOCK stays so a containerd that stops reading costs log lines,
// never a stuck shim.
void log_to_fifo(bool debug, const std::string& pod) {
  UniqueFd fd(::open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd) (void)::dup2(fd.get(), STDERR_FILENO);
  log::Sink sink;
  sink.fd = STDERR_FILENO;
  sink.min_level = debug ? log::Level::Debug : log::Level::Info;
  sink.prefix = "[shim pod=" + pod + "]";
  log::install(sink);
}

std::string ttrpc_address(const ShimFlags& f) {
  const char* env = std::getenv("TTRPC_ADDRESS");
  if (env && *env) return env;
  return f.address + ".ttrpc";  // containerd's default
}

}  // namespace

int run_daemon(const ShimFlags& f) {
  // Before any thread: every thread inherits the mask, the signals come
  // through the signalfd only. A reader gone from a fifo is EPIPE, not death.
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sig_fd(::signalfd(-1, &set, SFD_CLOEXEC));
  UniqueFd listener(kListenerFd);
  (void)::fcntl(kListenerFd, F_SETFD, FD_CLOEXEC);

  std::string group = f.id;
  if (auto spec = oci::load_spec_file("config.json")) {
    if (auto g = group_of(spec->annotations.value_or(oci::StringMap{}), f.id)) group = *g;
  }
  log_to_fifo(f.debug, group);
  if (f.ns.empty() || f.id.empty() || f.socket.empty()) {
    log::error("the daemon needs -namespace, -id and -socket (run by `start`)");
    return 1;
  }
  auto root = pod_root(f.ns);
  if (!root) {
    log::error(root.error().what());
    return 1;
  }
  UniqueFd done(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!sig_fd || !done) {
    log::error("signalfd/eventfd: " + std::string(std::strerror(errno)));
    return 1;
  }

  Publisher events(ttrpc_address(f), f.ns);
  int rc = 0;
  {
    ServiceOptions so;
    so.pod = PodOptions{group, *root, f.socket};
    so.ns = f.ns;
    so.on_shutdown = [fd = done.get()] {
      uint64_t one = 1;
      (void)!::write(fd, &one, sizeof one);
    };
    Service service(std::move(so), events);
    if (auto st = service.register_shim(); !st) log::warn(st.error().what());
    auto server = ttrpc::Server::serve(std::move(listener), task_service(service));
    if (!server) {
      log::error(server.error().what());
      rc = 1;
    } else {
      log::info("serving " + f.socket + " (task " + f.id + ", namespace " + f.ns + ")");
      for (;;) {
        pollfd p[2] = {{done.get(), POLLIN, 0}, {sig_fd.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0 && errno == EINTR) continue;
        if (p[1].revents) {
          signalfd_siginfo si{};
          (void)!::read(sig_fd.get(), &si, sizeof si);
          log::info("signal " + std::to_string(si.ssi_signo) + ": shutting down");
        }
        break;
      }
      (*server)->shutdown();
    }
    service.teardown();
  }
  if (!events.flush(kFlushTimeout)) log::warn("some events were not delivered before exiting");
  ::unlink(socket_path_of(f.socket).c_str());
  if (auto r = pod_root(f.ns)) ::unlink(record_path(*r, group).c_str());
  log::info("exiting");
  return rc;
}

}  // namespace hull::shim
