// One vsock stream connection: state machine and credit accounting
// (docs/vsock.md "Connection states", "Credit"). Pure: the muxer owns the host socket and does
// the I/O, and asks this class what is allowed and what to tell the guest.
//
//   host-initiated:  AwaitResponse --RESPONSE--> Established
//   guest-initiated: (REQUEST accepted)          Established
//   Established --host error--> Closing (we sent SHUTDOWN 3, wait for RST or timeout)
//   any --RST / protocol error / timeout--> Dead (muxer forgets it)
//
// Credit, all u32 with wrap-around:
//   peer_free  = peer_buf_alloc - (tx_cnt - peer_fwd_cnt)     bytes we may still send
//   unflushed  = rx_cnt - fwd_cnt                             guest bytes not yet written to host
//   A guest that sends more than buf_alloc - unflushed gets RST (CreditViolation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "runtime/vsock/fault.h"
#include "runtime/vsock/packet.h"

namespace hull::vsock {

enum class ConnState { AwaitResponse, Established, Closing, Dead };
const char* conn_state_name(ConnState s);

struct ConnKey {
  uint32_t local_port = 0;  // host side
  uint32_t peer_port = 0;   // guest side
  bool operator==(const ConnKey&) const = default;
};

// What the muxer must do after a guest packet was applied.
enum class ConnEvent {
  None,
  Established,  // host-initiated: write "OK <local_port>\n" to the host stream
  Payload,      // RW accepted: deliver its bytes to the host stream
  Closed,       // the guest reset the connection: close the host stream, forget
};

class Connection {
 public:
  static Connection host_initiated(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc);
  // The guest's REQUEST was accepted (host listener connected): answer RESPONSE.
  static Connection guest_initiated(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc,
                                    const packet::Header& request);

  // Applies one guest packet for this connection (already validated by
  // packet::validate_tx). A Fault means: send RST and forget the connection.
  Checked<ConnEvent> on_packet(const packet::Header& h);

  // The next control packet to send the guest, if any (REQUEST/RESPONSE,
  // SHUTDOWN, CREDIT_UPDATE, CREDIT_REQUEST in that order). Marks it sent.
  std::optional<packet::Header> take_control();
  bool has_control() const;

  // A data packet header for `len` bytes read from the host; records the send.
  packet::Header make_rw(uint32_t len);

  // --- host-side events, reported by the muxer ---
  void host_flushed(uint32_t n);  // n guest bytes reached the host socket
  void host_eof();                // host will send no more: SHUTDOWN(SEND) to the guest
  void host_error();              // host stream failed: SHUTDOWN(RCV|SEND), then Closing
  packet::Header make_rst();      // we reset it: the RST to send; the connection is Dead
  void host_write_shut() { host_shut_wr_ = true; }
  void no_credit();  // nothing to send for lack of credit: ask for an update

  // --- queries ---
  ConnKey key() const { return key_; }
  ConnState state() const { return state_; }
  uint32_t peer_free() const;  // bytes the guest can take now
  uint32_t unflushed() const { return rx_cnt_ - fwd_cnt_; }
  bool wants_host_read() const;         // may read from the host stream
  bool should_shut_host_write() const;  // guest sent SHUTDOWN(SEND) and all is flushed
  bool finished() const;                // both sides done: RST then forget
  bool lingering() const;               // would be finished but data is still unflushed

  // Bytes of guest payload that could not be written to the host yet.
  void buffer(std::span<const std::byte> bytes);
  std::span<const std::byte> pending() const;
  void consume_pending(size_t n);  // n pending bytes written (also counts as flushed)

  // Test hooks: start counters near wrap-around.
  void set_counters_for_test(uint32_t tx_cnt, uint32_t rx_cnt, uint32_t fwd_cnt);
  uint32_t fwd_cnt() const { return fwd_cnt_; }
  uint32_t tx_cnt() const { return tx_cnt_; }

 private:
  Connection(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc, ConnState state);
  packet::Header make_header(uint16_t op, uint32_t len, uint32_t flags);
  void maybe_credit_update();

  ConnKey key_;
  uint64_t guest_cid_;
  uint32_t buf_alloc_;
  ConnState state_;

  uint32_t peer_buf_alloc_ = 0;
  uint32_t peer_fwd_cnt_ = 0;
  uint32_t tx_cnt_ = 0;             // payload bytes sent to the guest
  uint32_t rx_cnt_ = 0;             // payload bytes accepted from the guest
  uint32_t fwd_cnt_ = 0;            // of those, written to the host socket
  uint32_t last_fwd_cnt_sent_ = 0;  // fwd_cnt the guest last heard from us

  bool peer_shut_send_ = false;  // guest will send no more
  bool peer_shut_rcv_ = false;   // guest will receive no more
  bool host_eof_ = false;        // host will send no more
  bool host_shut_wr_ = false;    // we already shut the host socket for writing

  bool pending_request_ = false;
  bool pending_response_ = false;
  bool credit_requested_ = false;  // CREDIT_REQUEST sent, no update seen since
  uint32_t pending_shutdown_ = 0;  // flags to send, 0 = none
  bool pending_credit_update_ = false;
  bool pending_credit_request_ = false;

  std::vector<std::byte> buf_;  // guest->host bytes not yet written
  size_t buf_off_ = 0;
};

}  // namespace hull::vsock
