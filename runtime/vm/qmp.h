// A small QMP client: capabilities handshake, query-status,
// system_powerdown, quit. One request at a time, every read bounded in size
// and time; asynchronous events are skipped (QEMU's reply is the first
// non-event message after a command).
//
//   hull                         QEMU
//    |---- connect(qmp.sock) ---->|
//    |<--- {"QMP": {...}} --------|   greeting
//    |---- qmp_capabilities ----->|
//    |<--- {"return": {}} --------|
//    |---- query-status --------->|
//    |<--- {"event": ...} --------|   skipped
//    |<--- {"return": {...}} -----|
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::vm {

// One QMP message is at most this long (QEMU's replies here are < 1 KiB).
inline constexpr size_t kMaxQmpMessageBytes = 64 << 10;
// Events tolerated while waiting for one reply.
inline constexpr int kMaxQmpEventsPerReply = 256;

enum class QmpKind { Greeting, Return, Error, Event };

struct QmpMessage {
  QmpKind kind = QmpKind::Return;
  nlohmann::json value;     // "return" value, or the greeting's "QMP" object
  std::string error_class;  // Error: "class"
  std::string error_desc;   // Error: "desc"
  std::string event;        // Event: name
};

// Parses one QMP message (one JSON object). Pure.
Result<QmpMessage> parse_qmp_message(std::string_view text);

class QmpClient {
 public:
  // Connects to QEMU's QMP socket, retrying until `timeout` while the socket
  // is not there yet, then runs the handshake.
  static Result<QmpClient> connect(const std::string& socket_path,
                                   std::chrono::milliseconds timeout);
  // Runs the handshake on an already connected stream (tests use a socketpair).
  static Result<QmpClient> handshake(UniqueFd fd, std::chrono::milliseconds timeout);

  // "running", "paused", "shutdown", "prelaunch", ... (QMP RunState).
  Result<std::string> query_status();
  // ACPI power button: a cooperative guest shuts down.
  Status system_powerdown();
  // QEMU exits at once. EOF right after the request counts as success.
  Status quit();

  // Sends {"execute": command} and returns the "return" value.
  Result<nlohmann::json> execute(std::string_view command);

  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

 private:
  QmpClient(UniqueFd fd, std::chrono::milliseconds timeout)
      : fd_(std::move(fd)), timeout_(timeout) {}
  Result<std::string> read_message(std::chrono::steady_clock::time_point deadline);
  Status send(std::string_view text);

  UniqueFd fd_;
  std::chrono::milliseconds timeout_;
  std::string buf_;  // bytes read past the last message
};

}  // namespace hull::vm
