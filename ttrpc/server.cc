#include "ttrpc/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

#include "common/io.h"
#include "common/log.h"
#include "ttrpc/limits.h"
#include "ttrpc/socket.h"

namespace hull::ttrpc {

Result<std::unique_ptr<Server>> Server::listen(const std::string& path, ServiceMap services) {
  HULL_ASSIGN(fd, listen_unix(path));
  std::unique_ptr<Server> server(new Server(std::move(fd), path, std::move(services)));
  HULL_TRY(server->start());
  return server;
}

Result<std::unique_ptr<Server>> Server::serve(UniqueFd listener, ServiceMap services) {
  int accepting = 0;
  socklen_t len = sizeof(accepting);
  if (::getsockopt(listener.get(), SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 ||
      accepting == 0) {
    return fail(Errc::Invalid, "ttrpc: fd " + std::to_string(listener.get()) +
                                   " is not a listening socket: the server needs one that listens");
  }
  std::unique_ptr<Server> server(new Server(std::move(listener), "", std::move(services)));
  HULL_TRY(server->start());
  return server;
}

Server::Server(UniqueFd listener, std::string owned_path, ServiceMap services)
    : services_(std::move(services)),
      listener_(std::move(listener)),
      owned_path_(std::move(owned_path)),
      uid_(::geteuid()) {}

Server::~Server() {
  shutdown();
}

Status Server::start() {
  // Non-blocking, so a connection that goes away between poll and accept
  // cannot block the accept loop.
  HULL_TRY(wrap(set_nonblocking(listener_.get()), "the ttrpc listening socket"));
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return fail_errno("creating the wake-up eventfd of a ttrpc server");
  try {
    accept_thread_ = std::thread([this] { accept_loop(); });
  } catch (const std::system_error& e) {
    return fail(Errc::System, std::string("starting the ttrpc accept thread: ") + e.what());
  }
  return {};
}

void Server::wake() {
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof(one));
}

void Server::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (accept_thread_.joinable()) {
    wake();
    accept_thread_.join();
  }
  listener_.reset();
  if (!owned_path_.empty()) ::unlink(owned_path_.c_str());
  std::list<std::unique_ptr<ServerConnection>> conns;
  {
    std::lock_guard lock(mu_);
    conns.swap(conns_);
  }
  for (auto& c : conns) c->close();  // all stop at once, then each is waited for
  conns.clear();
}

size_t Server::connection_count() {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& c : conns_) n += c->finished() ? 0 : 1;
  return n;
}

void Server::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log::error("ttrpc: waiting for connections failed: " + std::string(strerror(errno)));
      return;
    }
    if (fds[1].revents != 0) {
      uint64_t count;
      (void)!::read(wake_.get(), &count, sizeof(count));
      {
        std::lock_guard lock(mu_);
        if (stopped_) return;
      }
      reap_connections();
    }
    if (fds[0].revents != 0) accept_one();
  }
}

void Server::accept_one() {
  UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
      log::warn("ttrpc: accepting a connection failed: " + std::string(strerror(errno)));
      if (errno == EMFILE || errno == ENFILE) ::usleep(100 * 1000);  // let fds free up
    }
    return;
  }
  auto peer = peer_cred(fd.get());
  if (!peer) {
    log::warn(peer.error().what());
    return;
  }
  if (peer->uid != uid_ && peer->uid != 0) {
    log::warn("ttrpc: refused a connection from pid " + std::to_string(peer->pid) + " (uid " +
              std::to_string(peer->uid) + "): only " +
              (uid_ == 0 ? std::string("root") : "uid " + std::to_string(uid_) + " or root") +
              " may call this server");
    return;
  }
  if (auto st = set_send_timeout(fd.get()); !st) {
    log::warn(st.error().what());
    return;
  }
  std::lock_guard lock(mu_);
  size_t open = 0;
  for (const auto& c : conns_) open += c->finished() ? 0 : 1;
  if (open >= kMaxConnections) {
    log::warn("ttrpc: refused a connection from pid " + std::to_string(peer->pid) + ": " +
              std::to_string(kMaxConnections) + " connections are open already");
    return;
  }
  auto conn =
      std::make_unique<ServerConnection>(std::move(fd), *peer, services_, [this] { wake(); });
  if (auto st = conn->start(); !st) {
    log::warn(st.error().what());
    return;
  }
  conns_.push_back(std::move(conn));
}

void Server::reap_connections() {
  std::list<std::unique_ptr<ServerConnection>> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      auto next = std::next(it);
      if ((*it)->finished()) done.splice(done.end(), conns_, it);
      it = next;
    }
  }
  done.clear();  // joins their reader threads (already at their end)
}

}  // namespace hull::ttrpc
