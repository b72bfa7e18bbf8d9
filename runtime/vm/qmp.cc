#include "runtime/vm/qmp.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "common/io.h"
#include "common/unix_socket.h"

namespace hull::vm {

namespace {

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

Result<QmpMessage> parse_qmp_message(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(Errc::GuestProtocol, "QMP: message is not JSON");
  if (!j.is_object()) return fail(Errc::GuestProtocol, "QMP: message is not a JSON object");
  QmpMessage m;
  if (auto it = j.find("return"); it != j.end()) {
    m.kind = QmpKind::Return;
    m.value = *it;
    return m;
  }
  if (auto it = j.find("error"); it != j.end()) {
    if (!it->is_object()) return fail(Errc::GuestProtocol, "QMP: \"error\" is not an object");
    m.kind = QmpKind::Error;
    auto cls = it->find("class");
    auto desc = it->find("desc");
    if (cls != it->end() && cls->is_string()) m.error_class = cls->get<std::string>();
    if (desc != it->end() && desc->is_string()) m.error_desc = desc->get<std::string>();
    return m;
  }
  if (auto it = j.find("event"); it != j.end()) {
    if (!it->is_string()) return fail(Errc::GuestProtocol, "QMP: \"event\" is not a string");
    m.kind = QmpKind::Event;
    m.event = it->get<std::string>();
    return m;
  }
  if (auto it = j.find("QMP"); it != j.end()) {
    m.kind = QmpKind::Greeting;
    m.value = *it;
    return m;
  }
  return fail(Errc::GuestProtocol, "QMP: message has none of return, error, event, QMP");
}

Result<QmpClient> QmpClient::connect(const std::string& socket_path,
                                     std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto fd = connect_unix(socket_path);
    if (fd) return handshake(std::move(*fd), timeout);
    int err = fd.error().sys_errno;
    if ((err != ENOENT && err != ECONNREFUSED) || Clock::now() >= deadline) {
      return fail(std::move(fd.error()).wrap("connecting to QMP"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<QmpClient> QmpClient::handshake(UniqueFd fd, std::chrono::milliseconds timeout) {
  QmpClient c(std::move(fd), timeout);
  auto deadline = Clock::now() + timeout;
  HULL_ASSIGN(text, c.read_message(deadline));
  HULL_ASSIGN(greeting, parse_qmp_message(text));
  if (greeting.kind != QmpKind::Greeting) {
    return fail(Errc::GuestProtocol, "QMP: first message is not the greeting");
  }
  HULL_TRY(wrap(c.execute("qmp_capabilities"), "QMP handshake"));
  return c;
}

Status QmpClient::send(std::string_view text) {
  return wrap(send_all(fd_.get(), text), "QMP");
}

Result<std::string> QmpClient::read_message(Clock::time_point deadline) {
  for (;;) {
    size_t nl = buf_.find('\n');
    if ((nl == std::string::npos ? buf_.size() : nl) > kMaxQmpMessageBytes) {
      return fail(Errc::GuestProtocol,
                  "QMP: message longer than " + std::to_string(kMaxQmpMessageBytes) + " bytes");
    }
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      return line;
    }
    pollfd p{fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, ms_left(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail_errno("QMP: poll");
    if (r == 0)
      return fail(Errc::Timeout,
                  "QMP: no reply within " + std::to_string(timeout_.count()) + " ms");
    char chunk[4096];
    ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("QMP: read");
    if (n == 0) return fail(Errc::NotRunning, "QMP: QEMU closed the connection");
    buf_.append(chunk, static_cast<size_t>(n));
  }
}

Result<nlohmann::json> QmpClient::execute(std::string_view command) {
  auto deadline = Clock::now() + timeout_;
  nlohmann::json req = {{"execute", std::string(command)}};
  HULL_TRY(send(req.dump() + "\n"));
  for (int events = 0; events <= kMaxQmpEventsPerReply; ++events) {
    HULL_ASSIGN(text, read_message(deadline));
    HULL_ASSIGN(msg, parse_qmp_message(text));
    switch (msg.kind) {
      case QmpKind::Return:
        return msg.value;
      case QmpKind::Error:
        return fail(Errc::Invalid,
                    "QMP " + std::string(command) + ": " + msg.error_class + ": " + msg.error_desc);
      case QmpKind::Event:
        continue;
      case QmpKind::Greeting:
        return fail(Errc::GuestProtocol, "QMP: unexpected greeting");
    }
  }
  return fail(Errc::GuestProtocol, "QMP: more than " + std::to_string(kMaxQmpEventsPerReply) +
                                       " events without a reply");
}

Result<std::string> QmpClient::query_status() {
  HULL_ASSIGN(ret, execute("query-status"));
  auto it = ret.find("status");
  if (!ret.is_object() || it == ret.end() || !it->is_string()) {
    return fail(Errc::GuestProtocol, "QMP query-status: reply has no status string");
  }
  return it->get<std::string>();
}

Status QmpClient::system_powerdown() {
  HULL_TRY(execute("system_powerdown"));
  return {};
}

Status QmpClient::quit() {
  auto r = execute("quit");
  if (!r && r.error().code != Errc::NotRunning) return fail(std::move(r.error()));
  return {};
}

}  // namespace hull::vm
