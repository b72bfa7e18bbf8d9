// Muxer: the unix-socket side of hybrid vsock (docs/vsock.md).
//
//   host client --connect--> <uds>            "CONNECT <port>\n"  -> REQUEST to the guest
//                            <uds>            <- "OK <local port>\n" after the guest's RESPONSE
//   guest REQUEST to port P --connect--> <uds>_P                      -> RESPONSE or RST
//
// It owns the listener, the host streams (non-blocking, edge-triggered in the
// event loop) and the connection map keyed by (local port, guest port). The
// device hands it validated guest packets (on_guest_packet) and asks it to fill
// rx chains (fill_rx). Host bytes are read straight into rx buffers and only
// while the guest has credit and rx buffers exist, so host->guest needs no
// buffer; guest->host bytes the host cannot take at once are buffered up to the
// credit we advertised (limits::kConnBufAlloc per connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "common/event_loop.h"
#include "common/unique_fd.h"
#include "runtime/vsock/connect_line.h"
#include "runtime/vsock/connection.h"
#include "runtime/vsock/fault.h"
#include "runtime/vsock/packet.h"
#include "runtime/vsock/rate_log.h"
#include "runtime/vsock/virtq.h"

namespace hull::vsock {

class Muxer {
 public:
  using Clock = std::chrono::steady_clock;

  // Binds and listens on uds_path (a stale socket file is unlinked first), or
  // serves `listen_fd`, bound and listening by the launcher. Guest-initiated
  // streams connect to "<uds_path>_<port>". hull-vsock never unlinks.
  static Result<std::unique_ptr<Muxer>> create(EventLoop& loop, const std::string& uds_path,
                                               uint64_t guest_cid, int listen_fd = -1);
  ~Muxer();
  Muxer(const Muxer&) = delete;
  Muxer& operator=(const Muxer&) = delete;

  // A guest packet that passed packet::validate_tx; payload has h.len bytes.
  void on_guest_packet(const packet::Header& h, std::span<const std::byte> payload);

  // Answers a guest packet that is refused as a whole (bad type or op) with
  // an RST, unless it is an RST itself.
  void reject(const packet::Header& h) { send_rst_for(h); }

  // Whether something waits for an rx buffer.
  bool has_rx_work() const { return !backlog_.empty() || !ready_.empty(); }
  // Writes the next packet into an rx chain and returns its used length, or
  // nullopt if there was nothing to send after all (give the chain back).
  std::optional<uint32_t> fill_rx(const virtq::Chain& chain);

  // Timeouts (connect request, shutdown, kill): call at least every few hundred ms.
  void tick(Clock::time_point now);
  // Milliseconds until the next deadline, -1 if none.
  int next_timeout_ms(Clock::time_point now) const;

  // The device stopped or was reset: close every host stream, forget everything.
  void reset_all();

  size_t connection_count() const { return conns_.size(); }
  size_t backlog_size() const { return backlog_.size(); }
  const std::string& uds_path() const { return uds_path_; }

 private:
  struct Entry {
    Connection conn;
    UniqueFd fd;
    bool host_readable = false;  // edge seen, not drained yet
    bool in_ready = false;       // queued in ready_
    std::optional<Clock::time_point> deadline;
    EventLoop::Token watch = 0;  // the loop's registration of fd
  };
  struct PendingStream {
    UniqueFd fd;
    std::string line;
    Clock::time_point deadline;
    EventLoop::Token watch = 0;
  };

  Muxer(EventLoop& loop, std::string uds_path, uint64_t guest_cid);
  static uint64_t map_key(ConnKey k) { return (uint64_t{k.local_port} << 32) | k.peer_port; }

  void on_listener(uint32_t events);
  void on_pending_stream(int fd, uint32_t events);
  void start_host_connection(PendingStream stream, uint32_t port);
  void on_guest_request(const packet::Header& h);
  void on_host_event(uint64_t key, uint32_t events);
  void deliver(Entry& e, std::span<const std::byte> bytes);
  void flush(Entry& e);
  void settle(uint64_t key);  // after any change: close, reset or reschedule
  void schedule(uint64_t key, Entry& e);
  void reset_connection(uint64_t key, std::string_view why);
  void forget(uint64_t key);
  void push_backlog(const packet::Header& h);
  void send_rst_for(const packet::Header& h);
  std::optional<uint32_t> allocate_port();

  EventLoop& loop_;
  std::string uds_path_;
  uint64_t guest_cid_;
  UniqueFd listener_;
  EventLoop::Token listener_watch_ = 0;
  std::unordered_map<int, PendingStream> pending_;  // by fd number: each owns its fd
  std::unordered_map<uint64_t, Entry> conns_;
  std::unordered_set<uint32_t> local_ports_;  // host-initiated ports in use
  uint32_t next_port_;
  std::deque<packet::Header> backlog_;  // RSTs for unknown pairs, bounded by kRxBacklog
  std::deque<uint64_t> ready_;          // connections with something for the guest
  RateLimitedLog guest_log_;
};

}  // namespace hull::vsock
