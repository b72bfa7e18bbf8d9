// VhostUserServer: the back-end side of the vhost-user protocol for one
// virtio-vsock device (docs/vsock.md "vhost-user messages"). It listens on a unix socket, accepts
// ONE front end (QEMU), and serves its messages strictly in order on the event
// loop thread: replies are synchronous, as QEMU expects.
//
//   QEMU                                  hull-vsock
//    | GET_FEATURES                  ->    | VERSION_1|PROTOCOL_FEATURES|EVENT_IDX|INDIRECT_DESC
//    | GET/SET_PROTOCOL_FEATURES     ->    | CONFIG|MQ|REPLY_ACK
//    | GET_QUEUE_NUM, SET_OWNER      ->    | 2
//    | SET_VRING_CALL/ERR (masked)   ->    |
//    | GET_CONFIG off 0 size 8       ->    | le64 guest cid
//    |   ... guest driver starts ...       |
//    | SET_FEATURES, SET_MEM_TABLE   ->    | (ack if NEED_REPLY)
//    | SET_VRING_NUM/BASE/ADDR/KICK  ->    | ring started
//    | SET_VRING_ENABLE 1            ->    | packets flow
//    | GET_VRING_BASE                ->    | ring stopped, connections dropped
//    | EOF                                 | finished(): exit 0
//
// Framing errors (bad version or flags, oversized payload, too many fds) end
// the session with an error; a well-framed message with a bad payload is
// refused (failure ack if NEED_REPLY) and logged.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/event_loop.h"
#include "common/unique_fd.h"
#include "runtime/vsock/device.h"
#include "runtime/vsock/vhost_user_msg.h"

namespace hull::vsock {

class VhostUserServer {
 public:
  // Binds and listens on `path` (a stale socket file is unlinked first), or
  // serves `listen_fd`, a socket the launcher bound and listens on. The
  // socket file is the launcher's to remove: hull-vsock never unlinks.
  static Result<std::unique_ptr<VhostUserServer>> listen(EventLoop& loop, const std::string& path,
                                                         VsockDevice& device, int listen_fd = -1);
  ~VhostUserServer();
  VhostUserServer(const VhostUserServer&) = delete;
  VhostUserServer& operator=(const VhostUserServer&) = delete;

  // The front end came and went (or broke the framing): time to exit.
  bool finished() const { return finished_; }
  // Set when the session ended on an error rather than a clean EOF.
  const std::optional<Error>& failure() const { return failure_; }
  bool connected() const { return conn_.valid(); }

 private:
  struct Message {
    vhost::MsgHeader hdr;
    std::vector<std::byte> payload;
    std::vector<UniqueFd> fds;
  };

  VhostUserServer(EventLoop& loop, VsockDevice& device, std::string path);
  void on_listener();
  void on_readable();
  Result<std::optional<Message>> receive();  // nullopt: EOF
  // Returns the reply to send (empty: none); an error means "refuse".
  Result<std::vector<std::byte>> handle(Message& m);
  Status send(const std::vector<std::byte>& bytes);
  void end(std::optional<Error> why);

  EventLoop& loop_;
  VsockDevice& device_;
  std::string path_;
  UniqueFd listener_;
  EventLoop::Token listener_watch_ = 0;
  UniqueFd conn_;
  EventLoop::Token conn_watch_ = 0;
  uint64_t protocol_features_ = 0;
  bool finished_ = false;
  std::optional<Error> failure_;
};

}  // namespace hull::vsock
