#include "runtime/vsock/vhost_user.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/io.h"
#include "common/log.h"
#include "common/unix_socket.h"
#include "runtime/vsock/limits.h"

namespace hull::vsock {
namespace {

// Reads exactly out.size() bytes (the socket has a receive timeout).
Status read_exact(int fd, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::recv(fd, out.data() + done, out.size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("reading vhost-user payload");
    if (n == 0) return fail(Errc::GuestProtocol, "front end closed in the middle of a message");
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

VhostUserServer::VhostUserServer(EventLoop& loop, VsockDevice& device, std::string path)
    : loop_(loop), device_(device), path_(std::move(path)) {}

VhostUserServer::~VhostUserServer() {
  // No unlink: the launcher owns the socket file (runtime/vsock/main.cc).
  if (listener_) (void)loop_.remove(listener_watch_);
  if (conn_) (void)loop_.remove(conn_watch_);
}

Result<std::unique_ptr<VhostUserServer>> VhostUserServer::listen(EventLoop& loop,
                                                                 const std::string& path,
                                                                 VsockDevice& device,
                                                                 int listen_fd) {
  std::unique_ptr<VhostUserServer> s(new VhostUserServer(loop, device, path));
  if (listen_fd >= 0) {
    s->listener_.reset(listen_fd);
    HULL_TRY(unix_address(path));
    const int fl = ::fcntl(listen_fd, F_GETFL);
    if (fl < 0 || ::fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        ::fcntl(listen_fd, F_SETFD, FD_CLOEXEC) < 0)
      return fail_errno("vhost-user listening fd " + std::to_string(listen_fd));
  } else {
    HULL_ASSIGN(listener, wrap(listen_unix(path, 1, SOCK_NONBLOCK), "vhost-user socket"));
    s->listener_ = std::move(listener);
  }
  VhostUserServer* self = s.get();
  HULL_ASSIGN(watch,
              loop.add(s->listener_.get(), EPOLLIN, [self](uint32_t) { self->on_listener(); }));
  s->listener_watch_ = watch;
  return s;
}

void VhostUserServer::on_listener() {
  UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!c) return;
  timeval tv{limits::kVhostUserRecvTimeoutMs / 1000,
             (limits::kVhostUserRecvTimeoutMs % 1000) * 1000};
  ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // One front end per device: stop listening.
  (void)loop_.remove(listener_watch_);
  listener_.reset();
  conn_ = std::move(c);
  auto watch = loop_.add(conn_.get(), EPOLLIN, [this](uint32_t) { on_readable(); });
  if (!watch) {
    conn_.reset();  // never watched: nothing for end() to remove
    end(watch.error());
    return;
  }
  conn_watch_ = *watch;
  log::info("vhost-user front end connected");
}

void VhostUserServer::end(std::optional<Error> why) {
  if (conn_) (void)loop_.remove(conn_watch_);
  conn_.reset();
  finished_ = true;
  failure_ = std::move(why);
}

Result<std::optional<VhostUserServer::Message>> VhostUserServer::receive() {
  std::array<std::byte, limits::kVhostUserHeaderSize> raw;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * limits::kMaxVhostUserFds)];
  iovec iov{raw.data(), raw.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(conn_.get(), &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("reading vhost-user header");
  if (n == 0) return std::nullopt;

  Message m;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      // memcpy from the control buffer: cmsg data need not be aligned for int.
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      m.fds.emplace_back(fd);
    }
  }
  if (mh.msg_flags & MSG_CTRUNC)
    return fail(Errc::GuestProtocol, describe(Fault{FaultKind::MsgTooManyFds, m.fds.size() + 1,
                                                    limits::kMaxVhostUserFds}));
  if (static_cast<size_t>(n) < raw.size())
    HULL_TRY(read_exact(conn_.get(), std::span(raw).subspan(static_cast<size_t>(n))));
  auto hdr = vhost::parse_header(raw);
  if (!hdr) return fail(Errc::GuestProtocol, describe(hdr.error()));
  m.hdr = *hdr;
  m.payload.resize(m.hdr.size);
  HULL_TRY(read_exact(conn_.get(), m.payload));
  return m;
}

Status VhostUserServer::send(const std::vector<std::byte>& bytes) {
  // A reply is bytes of our own making; send_all takes them as chars.
  std::string_view raw(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return wrap(send_all(conn_.get(), raw), "writing vhost-user reply");
}

void VhostUserServer::on_readable() {
  auto m = receive();
  if (!m) {
    end(m.error().wrap("vhost-user session"));
    return;
  }
  if (!*m) {
    log::info("vhost-user front end closed the connection");
    end(std::nullopt);
    return;
  }
  Message& msg = **m;
  log::debug(std::string("vhost-user ") + vhost::request_name(msg.hdr.request));
  auto reply = handle(msg);
  const bool is_get =
      msg.hdr.request == vhost::kGetFeatures || msg.hdr.request == vhost::kGetProtocolFeatures ||
      msg.hdr.request == vhost::kGetQueueNum || msg.hdr.request == vhost::kGetVringBase ||
      msg.hdr.request == vhost::kGetConfig;
  std::vector<std::byte> out;
  if (!reply) {
    log::warn(std::string("vhost-user ") + vhost::request_name(msg.hdr.request) +
              " refused: " + reply.error().what());
    if (is_get) {
      // A GET must be answered; an empty config reply is QEMU's error signal,
      // anything else we cannot answer ends the session.
      if (msg.hdr.request != vhost::kGetConfig) {
        end(reply.error());
        return;
      }
      std::byte hdr_only[12] = {};
      out = vhost::build_reply(msg.hdr.request, hdr_only);
    } else if (msg.hdr.need_reply() && (protocol_features_ & vhost::kProtocolReplyAck)) {
      out = vhost::build_u64_reply(msg.hdr.request, 1);
    }
  } else if (!reply->empty()) {
    out = std::move(*reply);
  } else if (!is_get && msg.hdr.need_reply() && (protocol_features_ & vhost::kProtocolReplyAck)) {
    out = vhost::build_u64_reply(msg.hdr.request, 0);
  }
  if (!out.empty()) {
    if (auto s = send(out); !s) end(s.error());
  }
}

Result<std::vector<std::byte>> VhostUserServer::handle(Message& m) {
  using namespace vhost;
  const auto guest = [](const Fault& f) { return fail(Errc::GuestProtocol, describe(f)); };
  const uint32_t rings = limits::kNumQueues;
  const std::span<const std::byte> p = m.payload;
  const uint32_t req = m.hdr.request;
  const bool takes_fds =
      req == kSetMemTable || req == kSetVringKick || req == kSetVringCall || req == kSetVringErr;
  if (!takes_fds && !m.fds.empty()) return guest(Fault{FaultKind::MsgFdCount, req, m.fds.size()});

  switch (req) {
    case kGetFeatures:
      return build_u64_reply(req, kOfferedFeatures);
    case kSetFeatures: {
      auto v = parse_u64(req, p);
      if (!v) return guest(v.error());
      device_.set_features(*v);
      return std::vector<std::byte>{};
    }
    case kSetOwner:
    case kResetOwner:
    case kSetConfig:  // vsock config space is read-only
      return std::vector<std::byte>{};
    case kGetProtocolFeatures:
      return build_u64_reply(req, kOfferedProtocolFeatures);
    case kSetProtocolFeatures: {
      auto v = parse_u64(req, p);
      if (!v) return guest(v.error());
      protocol_features_ = *v & kOfferedProtocolFeatures;
      return std::vector<std::byte>{};
    }
    case kGetQueueNum:
      return build_u64_reply(req, limits::kNumQueues);
    case kSetMemTable: {
      auto regions = parse_mem_table(p, m.fds.size());
      if (!regions) return guest(regions.error());
      HULL_TRY(device_.set_mem_table(*regions, std::move(m.fds)));
      return std::vector<std::byte>{};
    }
    case kSetVringNum: {
      auto s = parse_vring_state(req, p, rings);
      if (!s) return guest(s.error());
      HULL_TRY(device_.set_ring_num(s->index, s->num));
      return std::vector<std::byte>{};
    }
    case kSetVringBase: {
      auto s = parse_vring_state(req, p, rings);
      if (!s) return guest(s.error());
      device_.set_ring_base(s->index, s->num);
      return std::vector<std::byte>{};
    }
    case kGetVringBase: {
      auto s = parse_vring_state(req, p, rings);
      if (!s) return guest(s.error());
      const uint32_t state[2] = {s->index, device_.stop_ring(s->index)};
      return build_reply(req, std::as_bytes(std::span(state)));
    }
    case kSetVringAddr: {
      auto a = parse_vring_addr(p, rings);
      if (!a) return guest(a.error());
      device_.set_ring_addr(*a);
      return std::vector<std::byte>{};
    }
    case kSetVringKick:
    case kSetVringCall:
    case kSetVringErr: {
      auto f = parse_vring_file(req, p, m.fds.size(), rings);
      if (!f) return guest(f.error());
      UniqueFd fd = f->has_fd ? std::move(m.fds[0]) : UniqueFd();
      if (req == kSetVringKick) HULL_TRY(device_.set_ring_kick(f->index, std::move(fd)));
      if (req == kSetVringCall) device_.set_ring_call(f->index, std::move(fd));
      // SET_VRING_ERR: we never report ring errors through it; the fd is closed.
      return std::vector<std::byte>{};
    }
    case kSetVringEnable: {
      auto s = parse_vring_state(req, p, rings);
      if (!s) return guest(s.error());
      device_.set_ring_enable(s->index, s->num != 0);
      return std::vector<std::byte>{};
    }
    case kGetConfig: {
      auto c = parse_config(p);
      if (!c) return guest(c.error());
      const uint64_t cid = device_.guest_cid();
      std::byte space[8];
      std::memcpy(space, &cid, sizeof cid);  // config space: le64 guest_cid
      if (c->offset > sizeof space || c->size > sizeof space - c->offset)
        return fail(Errc::GuestProtocol, "config read of " + std::to_string(c->size) +
                                             " bytes at " + std::to_string(c->offset) +
                                             " past the 8-byte vsock config");
      std::vector<std::byte> body(12 + c->size);
      std::memcpy(body.data(), p.data(), 12);  // echo offset, size, flags
      std::memcpy(body.data() + 12, space + c->offset, c->size);
      return build_reply(req, body);
    }
    default:
      return fail(Errc::Unsupported, "request " + std::to_string(req) + " (" + request_name(req) +
                                         ") is not supported");
  }
}

}  // namespace hull::vsock
