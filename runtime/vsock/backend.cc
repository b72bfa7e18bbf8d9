#include "runtime/vsock/backend.h"

#include <algorithm>

#include "runtime/vsock/limits.h"

namespace hull::vsock {

Result<std::unique_ptr<Backend>> Backend::create(const BackendOptions& o) {
  if (o.guest_cid < limits::kMinGuestCid || o.guest_cid > limits::kMaxGuestCid)
    return fail(Errc::Invalid, "guest cid " + std::to_string(o.guest_cid) + " is reserved (use " +
                                   std::to_string(limits::kMinGuestCid) + ".." +
                                   std::to_string(limits::kMaxGuestCid) + ")");
  std::unique_ptr<Backend> b(new Backend());
  HULL_ASSIGN(loop, EventLoop::create());
  b->loop_ = std::make_unique<EventLoop>(std::move(loop));
  HULL_ASSIGN(muxer, Muxer::create(*b->loop_, o.uds_path, o.guest_cid, o.uds_fd));
  b->muxer_ = std::move(muxer);
  b->device_ = std::make_unique<VsockDevice>(*b->loop_, *b->muxer_, o.guest_cid);
  HULL_ASSIGN(server, VhostUserServer::listen(*b->loop_, o.socket_path, *b->device_, o.socket_fd));
  b->server_ = std::move(server);
  return b;
}

Status Backend::step(int max_wait_ms) {
  const auto now = Muxer::Clock::now();
  int wait = muxer_->next_timeout_ms(now);
  wait = wait < 0 ? max_wait_ms : std::min(wait, max_wait_ms);
  // Packets may already be waiting for rx buffers: do not sleep on them.
  if (muxer_->has_rx_work()) device_->process();
  if (device_->busy()) wait = 0;
  HULL_TRY(loop_->run_once(wait));
  muxer_->tick(Muxer::Clock::now());
  device_->process();
  return {};
}

}  // namespace hull::vsock
