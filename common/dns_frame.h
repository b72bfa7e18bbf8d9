// The DNS relay's stream format, shared by the agent (guest end) and the
// per-container monitor (host end). Pure functions, no I/O.
//
// A relay stream is one guest-initiated vsock connection:
//
//   guest -> host:  mode byte ('U' or 'T'), then frames
//   host -> guest:  frames
//   frame:          2-byte big-endian length, then that many bytes of one DNS
//                   message (DNS over TCP's framing, RFC 1035 4.2.2)
//
// Mode 'U': the guest got the queries over UDP and the host asks its resolver
// over UDP; 'T': both over TCP. Every frame from the guest is untrusted: a
// message shorter than a DNS header is refused and ends the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"

namespace hull::dns {

inline constexpr size_t kHeaderBytes = 12;         // a DNS message's fixed header
inline constexpr size_t kMaxMessageBytes = 65535;  // what a 2-byte length can say
inline constexpr size_t kLengthBytes = 2;

enum class Mode : uint8_t { Udp = 'U', Tcp = 'T' };

// Invalid for any byte but 'U' and 'T' (names the byte).
Result<Mode> parse_mode(uint8_t b);

// The frame of one message; Invalid if it is shorter than a DNS header or
// longer than kMaxMessageBytes.
Result<std::vector<uint8_t>> make_frame(std::span<const uint8_t> message);

// The first frame in buf: the message and the bytes it used (length + message).
struct Frame {
  std::span<const uint8_t> message;
  size_t consumed = 0;
};
// nullopt: buf holds no whole frame yet. Invalid: the length says fewer bytes
// than a DNS header (a stream that says that is not DNS).
Result<std::optional<Frame>> take_frame(std::span<const uint8_t> buf);

// The 16-bit query id of a message (its first two bytes); needs kHeaderBytes.
uint16_t message_id(std::span<const uint8_t> message);

// Buffers a byte stream and hands out whole frames. Holds at most one frame
// plus one read's worth of bytes, bounded by kMaxMessageBytes + kLengthBytes +
// the largest feed.
class FrameReader {
 public:
  void feed(std::span<const uint8_t> bytes);
  // The next whole message, nullopt if none yet; Invalid as take_frame.
  Result<std::optional<std::vector<uint8_t>>> next();
  size_t buffered() const { return buf_.size(); }

 private:
  std::vector<uint8_t> buf_;
};

}  // namespace hull::dns
