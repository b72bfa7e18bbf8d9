// Backend: everything one hull-vsock process runs, wired together: the event
// loop, the hybrid-vsock muxer on `uds_path`, the vsock device and the
// vhost-user server on `socket_path`. create() binds and listens on both
// sockets, so a launcher may start QEMU as soon as it returns.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"
#include "common/event_loop.h"
#include "runtime/vsock/device.h"
#include "runtime/vsock/muxer.h"
#include "runtime/vsock/vhost_user.h"

namespace hull::vsock {

struct BackendOptions {
  std::string socket_path;  // vhost-user socket QEMU connects to
  std::string uds_path;     // hybrid vsock socket host clients connect to
  uint64_t guest_cid = 0;   // limits::kMinGuestCid .. kMaxGuestCid
  // Listening sockets made by the launcher (a jailed hull-vsock cannot bind
  // in its socket directory); -1: bind the paths above.
  int socket_fd = -1;
  int uds_fd = -1;
};

class Backend {
 public:
  static Result<std::unique_ptr<Backend>> create(const BackendOptions& options);

  // One round: wait for events (at most max_wait_ms), run handlers, fire
  // timeouts, move packets.
  Status step(int max_wait_ms);
  // The vhost-user front end has gone; failure() tells whether cleanly.
  bool finished() const { return server_->finished(); }
  const std::optional<Error>& failure() const { return server_->failure(); }

  Muxer& muxer() { return *muxer_; }
  VsockDevice& device() { return *device_; }

 private:
  Backend() = default;
  // Declaration order is teardown order in reverse: the loop outlives its users.
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Muxer> muxer_;
  std::unique_ptr<VsockDevice> device_;
  std::unique_ptr<VhostUserServer> server_;
};

}  // namespace hull::vsock
