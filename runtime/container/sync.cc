#include "runtime/container/sync.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/error_json.h"

namespace hull::container {
namespace {

constexpr std::pair<SyncType, std::string_view> kNames[] = {{SyncType::Namespaces, "namespaces"},
                                                            {SyncType::Boot, "boot"},
                                                            {SyncType::Ready, "ready"},
                                                            {SyncType::Error, "error"},
                                                            {SyncType::Commit, "commit"}};

}  // namespace

std::string encode_sync(const SyncMessage& m) {
  nlohmann::json j = m.body.is_object() ? m.body : nlohmann::json::object();
  for (const auto& [t, n] : kNames) {
    if (t == m.type) j["type"] = n;
  }
  if (m.type == SyncType::Error) j.update(error_to_json(m.error));
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<SyncMessage> parse_sync(std::string_view packet) {
  auto bad = [](const std::string& why) {
    return fail(Errc::Internal, "monitor handshake: " + why);
  };
  if (packet.size() > kMaxSyncMessageBytes) return bad("message larger than 64 KiB");
  nlohmann::json j = nlohmann::json::parse(packet.begin(), packet.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("message is not a JSON object");
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return bad("message has no \"type\"");
  SyncMessage m;
  bool known = false;
  for (const auto& [ty, n] : kNames) {
    if (n == t->get<std::string>()) {
      m.type = ty;
      known = true;
    }
  }
  if (!known) return bad("unknown message type \"" + t->get<std::string>() + "\"");
  if (m.type == SyncType::Error) {
    m.error = error_from_json(j, "monitor handshake");
    for (const char* k : {"code", "errno", "msg"}) j.erase(k);
  }
  j.erase("type");
  m.body = std::move(j);
  return m;
}

Status send_sync(int fd, const SyncMessage& m) {
  std::string p = encode_sync(m);
  if (p.size() > kMaxSyncMessageBytes) return fail(Errc::Internal, "sync message too large");
  for (;;) {
    ssize_t n = ::send(fd, p.data(), p.size(), MSG_NOSIGNAL);
    if (n >= 0) return {};
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) {
      return fail(Errc::NotRunning, "monitor handshake: the other side has gone");
    }
    return fail_errno("monitor handshake: send");
  }
}

Result<SyncMessage> recv_sync(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail_errno("monitor handshake: poll");
    }
    if (r == 0) {
      return fail(Errc::Timeout, "monitor handshake: no answer within " +
                                     std::to_string(timeout.count() / 1000) + " s");
    }
    std::string buf(kMaxSyncMessageBytes + 1, '\0');
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) return fail(Errc::NotRunning, "monitor handshake: peer has gone");
      return fail_errno("monitor handshake: recv");
    }
    if (n == 0) return fail(Errc::NotRunning, "monitor handshake: peer has gone");
    buf.resize(static_cast<size_t>(n));
    return parse_sync(buf);
  }
}

Result<std::pair<UniqueFd, UniqueFd>> sync_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return fail_errno("monitor handshake: socketpair");
  }
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace hull::container
