#include "agent/engine/sync.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include <nlohmann/json.hpp>

#include "agent/engine/str.h"
#include "common/io.h"

namespace hull::engine {
namespace {

using Clock = std::chrono::steady_clock;

// Reads exactly n bytes; *eof_at_start is set when EOF came before any byte.
// An fd passed along (SCM_RIGHTS) lands in *passed (closed when null).
Status read_all(int fd, char* p, size_t n, Clock::time_point until, bool unlimited,
                bool* eof_at_start, UniqueFd* passed) {
  size_t got = 0;
  while (got < n) {
    int timeout_ms = -1;
    if (!unlimited) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0)
        return fail(Errc::Timeout, "sync: timed out waiting for the container init");
      timeout_ms = static_cast<int>(left.count());
    }
    pollfd pfd{fd, POLLIN, 0};
    int pr = ::poll(&pfd, 1, timeout_ms);
    if (pr < 0) {
      if (errno == EINTR) continue;
      return fail_errno("sync: poll");
    }
    if (pr == 0) continue;
    iovec iov{p + got, n - got};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> cbuf{};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf.data();
    mh.msg_controllen = cbuf.size();
    ssize_t r = ::recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); r >= 0 && c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int passed_fd = -1;
        std::memcpy(&passed_fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        UniqueFd owned(passed_fd);
        if (passed && !*passed) *passed = std::move(owned);
      }
    }
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return fail_errno("sync: read");
    }
    if (r == 0) {
      if (got == 0 && eof_at_start) *eof_at_start = true;
      return fail(Errc::NotRunning,
                  got == 0 ? "sync: peer closed" : "sync: peer closed mid-message");
    }
    got += static_cast<size_t>(r);
  }
  return {};
}

}  // namespace

std::string_view sync_msg_name(SyncMsg m) {
  switch (m) {
    case SyncMsg::Config:
      return "Config";
    case SyncMsg::UsernsCreated:
      return "UsernsCreated";
    case SyncMsg::UsernsMapped:
      return "UsernsMapped";
    case SyncMsg::ChildPid:
      return "ChildPid";
    case SyncMsg::PidAck:
      return "PidAck";
    case SyncMsg::Ready:
      return "Ready";
    case SyncMsg::Start:
      return "Start";
    case SyncMsg::Error:
      return "Error";
    case SyncMsg::Console:
      return "Console";
  }
  return "unknown";
}

Status send_sync(int fd, SyncMsg type, std::string_view payload) {
  if (payload.size() > kMaxSyncPayload) {
    return fail(Errc::Invalid, cat("sync: ", sync_msg_name(type), " payload of ", payload.size(),
                                   " bytes exceeds ", kMaxSyncPayload));
  }
  std::array<uint32_t, 2> hdr{static_cast<uint32_t>(type), static_cast<uint32_t>(payload.size())};
  std::string buf(sizeof(hdr) + payload.size(), '\0');
  std::memcpy(buf.data(), hdr.data(), sizeof(hdr));  // plain integers, same binary both ends
  // An empty string_view may have a null data(), which memcpy must not get.
  if (!payload.empty()) std::memcpy(buf.data() + sizeof(hdr), payload.data(), payload.size());
  return wrap(send_all(fd, buf), "sync");
}

Status send_sync_fd(int fd, SyncMsg type, int pass) {
  std::array<uint32_t, 2> hdr{static_cast<uint32_t>(type), 0};
  iovec iov{hdr.data(), sizeof(hdr)};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> cbuf{};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf.data();
  mh.msg_controllen = cbuf.size();
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &pass, sizeof(int));
  ssize_t w;
  while ((w = ::sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (w < 0) return fail_errno(cat("sync: send ", sync_msg_name(type)));
  // The fd travels with the first byte; a short write only leaves header bytes.
  if (static_cast<size_t>(w) < sizeof(hdr))
    return wrap(
        send_all(fd, std::string_view(reinterpret_cast<const char*>(hdr.data()), sizeof(hdr))
                         .substr(static_cast<size_t>(w))),
        "sync");
  return {};
}

Result<SyncMessage> recv_sync(int fd, std::chrono::milliseconds deadline) {
  bool unlimited = deadline.count() < 0;
  auto until = Clock::now() + (unlimited ? std::chrono::milliseconds(0) : deadline);
  std::array<uint32_t, 2> hdr{};
  UniqueFd passed;
  HULL_TRY(read_all(fd, reinterpret_cast<char*>(hdr.data()), sizeof(hdr), until, unlimited, nullptr,
                    &passed));
  if (hdr[0] < static_cast<uint32_t>(SyncMsg::Config) ||
      hdr[0] > static_cast<uint32_t>(SyncMsg::Console)) {
    return fail(Errc::GuestProtocol, cat("sync: unknown message type ", hdr[0]));
  }
  if (hdr[1] > kMaxSyncPayload) {
    return fail(Errc::GuestProtocol,
                cat("sync: payload of ", hdr[1], " bytes exceeds ", kMaxSyncPayload));
  }
  SyncMessage m{static_cast<SyncMsg>(hdr[0]), std::string(hdr[1], '\0'), std::move(passed)};
  HULL_TRY(read_all(fd, m.payload.data(), m.payload.size(), until, unlimited, nullptr, &m.fd));
  return m;
}

Status wait_sync_eof(int fd, std::chrono::milliseconds deadline) {
  auto m = recv_sync(fd, deadline);
  if (!m) {
    if (m.error().code == Errc::NotRunning && m.error().msg == "sync: peer closed") return {};
    return fail(std::move(m.error()));
  }
  if (m->type == SyncMsg::Error) return fail(decode_error(m->payload));
  return fail(Errc::GuestProtocol,
              cat("sync: expected EOF after Start, got ", sync_msg_name(m->type)));
}

std::string encode_error(const Error& e) {
  nlohmann::json j{{"code", static_cast<int>(e.code)}, {"errno", e.sys_errno}, {"msg", e.msg}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Error decode_error(std::string_view payload) {
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("msg") || !j["msg"].is_string() ||
      !j.contains("code") || !j["code"].is_number_integer() || !j.contains("errno") ||
      !j["errno"].is_number_integer()) {
    return Error{Errc::GuestProtocol, 0, "sync: malformed Error message from container init"};
  }
  int code = j["code"].get<int>();
  if (code < 0 || code > static_cast<int>(Errc::Internal)) code = static_cast<int>(Errc::Internal);
  return Error{static_cast<Errc>(code), j["errno"].get<int>(), j["msg"].get<std::string>()};
}

Result<std::string> expect_sync(int fd, SyncMsg want, std::chrono::milliseconds deadline) {
  HULL_ASSIGN(m, recv_sync(fd, deadline));
  if (m.type == SyncMsg::Error) return fail(decode_error(m.payload));
  if (m.type != want) {
    return fail(Errc::GuestProtocol,
                cat("sync: expected ", sync_msg_name(want), ", got ", sync_msg_name(m.type)));
  }
  return std::move(m.payload);
}

Result<UniqueFd> expect_sync_fd(int fd, SyncMsg want, std::chrono::milliseconds deadline) {
  HULL_ASSIGN(m, recv_sync(fd, deadline));
  if (m.type == SyncMsg::Error) return fail(decode_error(m.payload));
  if (m.type != want) {
    return fail(Errc::GuestProtocol,
                cat("sync: expected ", sync_msg_name(want), ", got ", sync_msg_name(m.type)));
  }
  if (!m.fd) return fail(Errc::GuestProtocol, cat("sync: ", sync_msg_name(want), " without an fd"));
  return std::move(m.fd);
}

}  // namespace hull::engine
