#include "runtime/vsock/connection.h"

#include <algorithm>
#include <utility>

#include "runtime/vsock/limits.h"

namespace hull::vsock {

const char* conn_state_name(ConnState s) {
  switch (s) {
    case ConnState::AwaitResponse:
      return "await-response";
    case ConnState::Established:
      return "established";
    case ConnState::Closing:
      return "closing";
    case ConnState::Dead:
      return "dead";
  }
  return "unknown";
}

Connection::Connection(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc, ConnState state)
    : key_(key), guest_cid_(guest_cid), buf_alloc_(buf_alloc), state_(state) {}

Connection Connection::host_initiated(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc) {
  Connection c(key, guest_cid, buf_alloc, ConnState::AwaitResponse);
  c.pending_request_ = true;
  return c;
}

Connection Connection::guest_initiated(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc,
                                       const packet::Header& request) {
  Connection c(key, guest_cid, buf_alloc, ConnState::Established);
  c.peer_buf_alloc_ = request.buf_alloc;
  c.peer_fwd_cnt_ = request.fwd_cnt;
  c.pending_response_ = true;
  return c;
}

Checked<ConnEvent> Connection::on_packet(const packet::Header& h) {
  if (h.buf_alloc != peer_buf_alloc_ || h.fwd_cnt != peer_fwd_cnt_) credit_requested_ = false;
  peer_buf_alloc_ = h.buf_alloc;
  peer_fwd_cnt_ = h.fwd_cnt;
  const auto unexpected = [&] {
    return fault(FaultKind::UnexpectedOp, h.op, static_cast<uint64_t>(state_));
  };

  switch (h.op) {
    case packet::kOpRst:
      state_ = ConnState::Dead;  // never answer an RST with an RST
      return ConnEvent::Closed;
    case packet::kOpResponse:
      if (state_ != ConnState::AwaitResponse) return unexpected();
      state_ = ConnState::Established;
      return ConnEvent::Established;
    case packet::kOpShutdown:
      if (state_ == ConnState::AwaitResponse) return unexpected();
      peer_shut_send_ = peer_shut_send_ || (h.flags & packet::kShutdownSend) != 0;
      peer_shut_rcv_ = peer_shut_rcv_ || (h.flags & packet::kShutdownRcv) != 0;
      return ConnEvent::None;
    case packet::kOpRw: {
      if (state_ == ConnState::Closing) {
        // The host stream is gone: count the bytes as consumed so credit stays sane.
        rx_cnt_ += h.len;
        fwd_cnt_ += h.len;
        return ConnEvent::None;
      }
      if (state_ != ConnState::Established || peer_shut_send_) return unexpected();
      if (h.len == 0) return ConnEvent::None;
      const uint32_t free = buf_alloc_ - unflushed();
      if (h.len > free) return fault(FaultKind::CreditViolation, h.len, free);
      rx_cnt_ += h.len;
      return ConnEvent::Payload;
    }
    case packet::kOpCreditUpdate:
      if (state_ == ConnState::AwaitResponse) return unexpected();
      return ConnEvent::None;
    case packet::kOpCreditRequest:
      if (state_ == ConnState::AwaitResponse) return unexpected();
      pending_credit_update_ = true;
      return ConnEvent::None;
    default:  // REQUEST on an existing pair, or anything validate_tx let through
      return unexpected();
  }
}

packet::Header Connection::make_header(uint16_t op, uint32_t len, uint32_t flags) {
  packet::Header h;
  h.src_cid = limits::kHostCid;
  h.dst_cid = guest_cid_;
  h.src_port = key_.local_port;
  h.dst_port = key_.peer_port;
  h.len = len;
  h.type = packet::kTypeStream;
  h.op = op;
  h.flags = flags;
  h.buf_alloc = buf_alloc_;
  h.fwd_cnt = fwd_cnt_;
  last_fwd_cnt_sent_ = fwd_cnt_;
  pending_credit_update_ = false;  // every packet carries our credit
  return h;
}

bool Connection::has_control() const {
  return pending_request_ || pending_response_ || pending_shutdown_ != 0 ||
         pending_credit_update_ || pending_credit_request_;
}

std::optional<packet::Header> Connection::take_control() {
  if (pending_request_) {
    pending_request_ = false;
    return make_header(packet::kOpRequest, 0, 0);
  }
  if (pending_response_) {
    pending_response_ = false;
    return make_header(packet::kOpResponse, 0, 0);
  }
  if (pending_shutdown_ != 0) {
    const uint32_t flags = std::exchange(pending_shutdown_, 0);
    return make_header(packet::kOpShutdown, 0, flags);
  }
  if (pending_credit_update_) return make_header(packet::kOpCreditUpdate, 0, 0);
  if (pending_credit_request_) {
    pending_credit_request_ = false;
    return make_header(packet::kOpCreditRequest, 0, 0);
  }
  return std::nullopt;
}

packet::Header Connection::make_rw(uint32_t len) {
  tx_cnt_ += len;
  return make_header(packet::kOpRw, len, 0);
}

packet::Header Connection::make_rst() {
  pending_request_ = pending_response_ = pending_credit_update_ = pending_credit_request_ = false;
  pending_shutdown_ = 0;
  state_ = ConnState::Dead;
  return make_header(packet::kOpRst, 0, 0);
}

uint32_t Connection::peer_free() const {
  const uint32_t in_flight = tx_cnt_ - peer_fwd_cnt_;
  // A peer that lowers buf_alloc below what is in flight has no room, not "negative" room.
  return in_flight >= peer_buf_alloc_ ? 0 : peer_buf_alloc_ - in_flight;
}

void Connection::maybe_credit_update() {
  if (fwd_cnt_ == last_fwd_cnt_sent_) return;
  const uint32_t peer_view_free = buf_alloc_ - (rx_cnt_ - last_fwd_cnt_sent_);
  if (peer_view_free < limits::kCreditUpdateThreshold) pending_credit_update_ = true;
}

void Connection::host_flushed(uint32_t n) {
  fwd_cnt_ += n;
  maybe_credit_update();
}

void Connection::host_eof() {
  if (host_eof_ || state_ != ConnState::Established) return;
  host_eof_ = true;
  pending_shutdown_ |= packet::kShutdownSend;
}

void Connection::host_error() {
  if (state_ != ConnState::Established) return;
  host_eof_ = true;
  pending_shutdown_ = packet::kShutdownRcv | packet::kShutdownSend;
  state_ = ConnState::Closing;
  // Whatever the guest still sends is discarded: count the buffer as consumed.
  fwd_cnt_ += static_cast<uint32_t>(buf_.size() - buf_off_);
  buf_.clear();
  buf_off_ = 0;
}

void Connection::no_credit() {
  if (credit_requested_) return;
  credit_requested_ = true;
  pending_credit_request_ = true;
}

bool Connection::wants_host_read() const {
  return state_ == ConnState::Established && !peer_shut_rcv_ && !host_eof_ && peer_free() > 0;
}

bool Connection::should_shut_host_write() const {
  return state_ == ConnState::Established && peer_shut_send_ && !host_shut_wr_ &&
         buf_off_ == buf_.size();
}

bool Connection::finished() const {
  if (state_ != ConnState::Established) return false;
  if (buf_off_ != buf_.size()) return false;
  return peer_shut_send_ && (peer_shut_rcv_ || host_eof_);
}

bool Connection::lingering() const {
  return state_ == ConnState::Established && buf_off_ != buf_.size() && peer_shut_send_ &&
         (peer_shut_rcv_ || host_eof_);
}

void Connection::buffer(std::span<const std::byte> bytes) {
  if (buf_off_ > 0 && buf_off_ == buf_.size()) {
    buf_.clear();
    buf_off_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

std::span<const std::byte> Connection::pending() const {
  return std::span<const std::byte>(buf_).subspan(buf_off_);
}

void Connection::consume_pending(size_t n) {
  n = std::min(n, buf_.size() - buf_off_);
  buf_off_ += n;
  if (buf_off_ == buf_.size()) {
    buf_.clear();
    buf_off_ = 0;
  } else if (buf_off_ > buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(buf_off_));
    buf_off_ = 0;
  }
  host_flushed(static_cast<uint32_t>(n));
}

void Connection::set_counters_for_test(uint32_t tx_cnt, uint32_t rx_cnt, uint32_t fwd_cnt) {
  tx_cnt_ = tx_cnt;
  rx_cnt_ = rx_cnt;
  fwd_cnt_ = fwd_cnt;
  last_fwd_cnt_sent_ = fwd_cnt;
}

}  // namespace hull::vsock
