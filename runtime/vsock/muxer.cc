#include "runtime/vsock/muxer.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "common/unix_socket.h"
#include "runtime/vsock/limits.h"

namespace hull::vsock {
namespace {

constexpr uint32_t kHostEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

}  // namespace

Muxer::Muxer(EventLoop& loop, std::string uds_path, uint64_t guest_cid)
    : loop_(loop),
      uds_path_(std::move(uds_path)),
      guest_cid_(guest_cid),
      next_port_(limits::kHostPortFirst) {}

Muxer::~Muxer() {
  reset_all();
  for (auto& [fd, stream] : pending_) (void)loop_.remove(stream.watch);
  // No unlink: the launcher owns the socket file (runtime/vsock/main.cc).
  if (listener_) (void)loop_.remove(listener_watch_);
}

Result<std::unique_ptr<Muxer>> Muxer::create(EventLoop& loop, const std::string& uds_path,
                                             uint64_t guest_cid, int listen_fd) {
  // Leave room for "_<port>" (up to 11 bytes) in guest-initiated paths.
  HULL_TRY(unix_address(uds_path + "_4294967295"));
  std::unique_ptr<Muxer> m(new Muxer(loop, uds_path, guest_cid));
  if (listen_fd >= 0) {
    m->listener_.reset(listen_fd);
    const int fl = ::fcntl(listen_fd, F_GETFL);
    if (fl < 0 || ::fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        ::fcntl(listen_fd, F_SETFD, FD_CLOEXEC) < 0)
      return fail_errno("hybrid vsock listening fd " + std::to_string(listen_fd));
  } else {
    HULL_ASSIGN(listener, listen_unix(uds_path, 128, SOCK_NONBLOCK));
    m->listener_ = std::move(listener);
  }
  Muxer* self = m.get();
  HULL_ASSIGN(
      watch, loop.add(m->listener_.get(), EPOLLIN, [self](uint32_t ev) { self->on_listener(ev); }));
  m->listener_watch_ = watch;
  return m;
}

// --- host-initiated connections ------------------------------------------------

void Muxer::on_listener(uint32_t) {
  for (;;) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno != EAGAIN && errno != EINTR)
        log::warn(std::string("accept on ") + uds_path_ + ": " + std::strerror(errno));
      return;
    }
    if (pending_.size() >= limits::kMaxPendingHostStreams ||
        conns_.size() >= limits::kMaxConnections) {
      log::warn("connection limit reached (" + std::to_string(conns_.size()) +
                "): closing new host stream");
      continue;  // closed by fd's destructor, as Firecracker does
    }
    const int raw = fd.get();
    auto watch = loop_.add(raw, EPOLLIN | EPOLLRDHUP,
                           [this, raw](uint32_t ev) { on_pending_stream(raw, ev); });
    if (!watch) {
      log::warn(watch.error().what());
      continue;
    }
    pending_.emplace(
        raw,
        PendingStream{std::move(fd),
                      {},
                      Clock::now() + std::chrono::milliseconds(limits::kConnectRequestTimeoutMs),
                      *watch});
  }
}

void Muxer::on_pending_stream(int fd, uint32_t) {
  auto it = pending_.find(fd);
  if (it == pending_.end()) return;
  PendingStream& s = it->second;
  // One byte at a time: whatever follows the newline belongs to the guest.
  for (;;) {
    char c;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      (void)loop_.remove(s.watch);
      pending_.erase(it);
      return;
    }
    if (c != '\n') {
      s.line.push_back(c);
      if (s.line.size() + 1 <= limits::kConnectLineMax) continue;
    }
    auto port = parse_connect_line(s.line);
    PendingStream stream = std::move(s);
    (void)loop_.remove(stream.watch);
    pending_.erase(it);
    if (!port) {
      log::warn("host stream on " + uds_path_ + ": " + describe(port.error()) + ": closing");
      return;
    }
    start_host_connection(std::move(stream), *port);
    return;
  }
}

std::optional<uint32_t> Muxer::allocate_port() {
  const uint32_t range = limits::kHostPortEnd - limits::kHostPortFirst;
  for (uint32_t tries = 0; tries < range && tries <= limits::kMaxConnections; ++tries) {
    const uint32_t p = next_port_;
    next_port_ = next_port_ + 1 == limits::kHostPortEnd ? limits::kHostPortFirst : next_port_ + 1;
    if (!local_ports_.contains(p)) return p;
  }
  return std::nullopt;
}

void Muxer::start_host_connection(PendingStream stream, uint32_t port) {
  auto local = allocate_port();
  if (!local || conns_.size() >= limits::kMaxConnections) {
    log::warn("no free host port or connection slot for CONNECT " + std::to_string(port));
    return;
  }
  const ConnKey k{*local, port};
  const uint64_t key = map_key(k);
  const int raw = stream.fd.get();
  auto watch = loop_.add(raw, kHostEvents, [this, key](uint32_t ev) { on_host_event(key, ev); });
  if (!watch) {
    log::warn(watch.error().what());
    return;
  }
  local_ports_.insert(*local);
  Entry& e =
      conns_
          .emplace(key, Entry{Connection::host_initiated(k, guest_cid_, limits::kConnBufAlloc),
                              std::move(stream.fd), false, false, std::nullopt, *watch})
          .first->second;
  e.deadline = Clock::now() + std::chrono::milliseconds(limits::kConnectRequestTimeoutMs);
  log::debug("host CONNECT " + std::to_string(port) + " as local port " + std::to_string(*local));
  schedule(key, e);
}

// --- guest packets ---------------------------------------------------------------

void Muxer::push_backlog(const packet::Header& h) {
  if (backlog_.size() >= limits::kRxBacklog) {
    guest_log_.warn("rx backlog full (" + std::to_string(limits::kRxBacklog) + "): dropping " +
                    packet::op_name(h.op));
    return;
  }
  backlog_.push_back(h);
}

void Muxer::send_rst_for(const packet::Header& h) {
  if (h.op == packet::kOpRst) return;  // never answer an RST with an RST
  packet::Header r;
  r.src_cid = limits::kHostCid;
  r.dst_cid = guest_cid_;
  r.src_port = h.dst_port;
  r.dst_port = h.src_port;
  r.type = packet::kTypeStream;
  r.op = packet::kOpRst;
  push_backlog(r);
}

void Muxer::on_guest_packet(const packet::Header& h, std::span<const std::byte> payload) {
  const uint64_t key = map_key(ConnKey{h.dst_port, h.src_port});
  auto it = conns_.find(key);
  if (it == conns_.end()) {
    if (h.op == packet::kOpRequest) {
      on_guest_request(h);
    } else {
      send_rst_for(h);
    }
    return;
  }
  Entry& e = it->second;
  auto ev = e.conn.on_packet(h);
  if (!ev) {
    guest_log_.warn("guest port " + std::to_string(h.src_port) + " -> " +
                    std::to_string(h.dst_port) + ": " + describe(ev.error()) + ": reset");
    reset_connection(key, "protocol error");
    return;
  }
  switch (*ev) {
    case ConnEvent::Closed:
      forget(key);
      return;
    case ConnEvent::Established: {
      e.deadline.reset();
      const std::string ok = "OK " + std::to_string(e.conn.key().local_port) + "\n";
      const ssize_t n = ::send(e.fd.get(), ok.data(), ok.size(), MSG_NOSIGNAL);
      if (n != static_cast<ssize_t>(ok.size())) {
        reset_connection(key, "host stream gone before OK");
        return;
      }
      e.host_readable = true;  // the client may have sent bytes already
      break;
    }
    case ConnEvent::Payload:
      deliver(e, payload);
      break;
    case ConnEvent::None:
      break;
  }
  settle(key);
}

void Muxer::on_guest_request(const packet::Header& h) {
  const ConnKey k{h.dst_port, h.src_port};
  if (conns_.size() >= limits::kMaxConnections) {
    guest_log_.warn("connection limit reached: refusing guest port " + std::to_string(h.src_port));
    send_rst_for(h);
    return;
  }
  const std::string path = uds_path_ + "_" + std::to_string(h.dst_port);
  auto connected = connect_unix(path, SOCK_NONBLOCK);
  if (!connected) {
    log::debug("guest connect refused: " + connected.error().what());
    send_rst_for(h);
    return;
  }
  UniqueFd fd = std::move(*connected);
  const uint64_t key = map_key(k);
  const int raw = fd.get();
  auto watch = loop_.add(raw, kHostEvents, [this, key](uint32_t ev) { on_host_event(key, ev); });
  if (!watch) {
    log::warn(watch.error().what());
    send_rst_for(h);
    return;
  }
  Entry& e =
      conns_
          .emplace(key, Entry{Connection::guest_initiated(k, guest_cid_, limits::kConnBufAlloc, h),
                              std::move(fd), true, false, std::nullopt, *watch})
          .first->second;
  log::debug("guest port " + std::to_string(h.src_port) + " connected to " + path);
  schedule(key, e);
}

// --- host streams -----------------------------------------------------------------

void Muxer::deliver(Entry& e, std::span<const std::byte> bytes) {
  if (bytes.empty()) return;
  if (!e.conn.pending().empty()) {
    e.conn.buffer(bytes);
    return;
  }
  const ssize_t n = ::send(e.fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    e.conn.host_error();
    return;
  }
  const size_t sent = n < 0 ? 0 : static_cast<size_t>(n);
  e.conn.host_flushed(static_cast<uint32_t>(sent));
  if (sent < bytes.size()) e.conn.buffer(bytes.subspan(sent));
}

void Muxer::flush(Entry& e) {
  while (!e.conn.pending().empty()) {
    const auto p = e.conn.pending();
    const ssize_t n = ::send(e.fd.get(), p.data(), p.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      e.conn.host_error();
      return;
    }
    e.conn.consume_pending(static_cast<size_t>(n));
  }
}

void Muxer::on_host_event(uint64_t key, uint32_t events) {
  auto it = conns_.find(key);
  if (it == conns_.end()) return;
  Entry& e = it->second;
  if (events & EPOLLERR) {
    e.conn.host_error();
  } else {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) e.host_readable = true;
    if (events & EPOLLOUT) flush(e);
  }
  settle(key);
}

void Muxer::settle(uint64_t key) {
  auto it = conns_.find(key);
  if (it == conns_.end()) return;
  Entry& e = it->second;
  if (e.conn.state() == ConnState::Dead) {
    forget(key);
    return;
  }
  if (e.conn.should_shut_host_write()) {
    ::shutdown(e.fd.get(), SHUT_WR);
    e.conn.host_write_shut();
  }
  if (e.conn.finished()) {
    reset_connection(key, "both sides closed");
    return;
  }
  // Closing waits for the guest's RST; a lingering connection for the host to drain.
  if ((e.conn.state() == ConnState::Closing || e.conn.lingering()) && !e.deadline)
    e.deadline = Clock::now() + std::chrono::milliseconds(limits::kShutdownTimeoutMs);
  schedule(key, e);
}

void Muxer::schedule(uint64_t key, Entry& e) {
  if (e.in_ready) return;
  if (e.host_readable && e.conn.state() == ConnState::Established && !e.conn.wants_host_read() &&
      e.conn.peer_free() == 0)
    e.conn.no_credit();
  if (e.conn.has_control() || (e.host_readable && e.conn.wants_host_read())) {
    e.in_ready = true;
    ready_.push_back(key);
  }
}

void Muxer::reset_connection(uint64_t key, std::string_view why) {
  auto it = conns_.find(key);
  if (it == conns_.end()) return;
  log::debug("reset local port " + std::to_string(it->second.conn.key().local_port) + ": " +
             std::string(why));
  push_backlog(it->second.conn.make_rst());
  forget(key);
}

void Muxer::forget(uint64_t key) {
  auto it = conns_.find(key);
  if (it == conns_.end()) return;
  (void)loop_.remove(it->second.watch);
  local_ports_.erase(it->second.conn.key().local_port);
  conns_.erase(it);  // closes the host stream; a stale ready_ entry is skipped
}

std::optional<uint32_t> Muxer::fill_rx(const virtq::Chain& chain) {
  auto room = packet::rx_payload_room(chain);
  if (!room) return std::nullopt;  // the caller checked the chain; nothing fits
  if (!backlog_.empty()) {
    auto used = packet::write_rx(chain, backlog_.front(), {});
    backlog_.pop_front();
    if (used) return *used;
  }
  while (!ready_.empty()) {
    const uint64_t key = ready_.front();
    ready_.pop_front();
    auto it = conns_.find(key);
    if (it == conns_.end()) continue;
    Entry& e = it->second;
    e.in_ready = false;

    std::optional<packet::Header> out = e.conn.take_control();
    uint32_t used_len = 0;
    if (out) {
      auto used = packet::write_rx(chain, *out, {});
      if (!used) return std::nullopt;
      used_len = *used;
    } else if (e.host_readable && e.conn.wants_host_read()) {
      const uint32_t max = std::min(*room, e.conn.peer_free());
      auto spans = packet::rx_payload_spans(chain, max);
      std::vector<iovec> iov;
      for (auto& s : spans) iov.push_back(iovec{s.data(), s.size()});
      // The host's bytes go straight into the guest's rx buffer (checked by the chain walk).
      const ssize_t n = ::readv(e.fd.get(), iov.data(), static_cast<int>(iov.size()));
      if (n > 0) {
        auto used = packet::write_rx_header(chain, e.conn.make_rw(static_cast<uint32_t>(n)));
        if (!used) return std::nullopt;
        used_len = *used;
      } else {
        if (n == 0) {
          e.conn.host_eof();
          e.host_readable = false;
        } else if (errno == EAGAIN || errno == EINTR) {
          e.host_readable = false;
        } else {
          e.conn.host_error();
        }
        settle(key);
        continue;
      }
    } else {
      continue;
    }
    settle(key);
    return used_len;
  }
  return std::nullopt;
}

// --- timers and reset ---------------------------------------------------------------

void Muxer::tick(Clock::time_point now) {
  std::vector<uint64_t> expired;
  for (auto& [key, e] : conns_)
    if (e.deadline && *e.deadline <= now) expired.push_back(key);
  for (uint64_t key : expired) reset_connection(key, "timeout");
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline <= now) {
      (void)loop_.remove(it->second.watch);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

int Muxer::next_timeout_ms(Clock::time_point now) const {
  std::optional<Clock::time_point> next;
  for (const auto& [key, e] : conns_)
    if (e.deadline && (!next || *e.deadline < *next)) next = e.deadline;
  for (const auto& [fd, s] : pending_)
    if (!next || s.deadline < *next) next = s.deadline;
  if (!next) return -1;
  if (*next <= now) return 0;
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(*next - now).count() + 1);
}

void Muxer::reset_all() {
  for (auto& [key, e] : conns_) (void)loop_.remove(e.watch);
  conns_.clear();
  local_ports_.clear();
  ready_.clear();
  backlog_.clear();
}

}  // namespace hull::vsock
