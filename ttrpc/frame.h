// ttrpc framing (docs/ttrpc.md "Frames"): a 10-byte header, then `length`
// bytes of body. Pure: no I/O, no logging, no allocation beyond the reader's
// buffer. Whatever the peer sends passes through parse_frame() first.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ttrpc/limits.h"

namespace hull::ttrpc {

enum class FrameType : uint8_t { Request = 1, Response = 2 };

struct FrameHeader {
  uint32_t length = 0;     // body bytes after the header
  uint32_t stream_id = 0;  // odd: started by the client
  uint8_t type = 0;        // FrameType; other values are the peer's business
  uint8_t flags = 0;       // ttrpc 1.1 writes 0 and never reads it
  bool operator==(const FrameHeader&) const = default;
};

std::array<std::byte, kHeaderSize> encode_header(const FrameHeader& h);

enum class ParseKind {
  NeedMore,  // the input holds no whole frame yet; `need` bytes would do
  Frame,     // a whole frame: `header` and `body`, `consumed` bytes long
  TooLong,   // header.length > max_length: the frame is refused. `consumed`
             // covers the header only; the caller skips header.length body
             // bytes without keeping them, then carries on with the next frame
};

struct Parsed {
  ParseKind kind = ParseKind::NeedMore;
  FrameHeader header;               // Frame and TooLong
  std::span<const std::byte> body;  // Frame: points into the input
  size_t consumed = 0;              // Frame and TooLong: bytes of the input used
  size_t need = kHeaderSize;        // NeedMore: total input length that makes progress
};

// Looks at the start of `in` for one frame. A length above max_length is
// refused from the header alone (the body is never looked at).
Parsed parse_frame(std::span<const std::byte> in, uint32_t max_length = kMaxMessageLength);

// Turns a byte stream, fed in pieces as read() returns them, into frames.
// Holds at most one partial frame (<= kHeaderSize + max_length bytes) plus one
// fed piece; the body of a refused frame is dropped as it arrives.
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_length = kMaxMessageLength) : max_length_(max_length) {}

  // Appends bytes read from the peer.
  void feed(std::span<const std::byte> bytes);

  // The next frame in what was fed: NeedMore, Frame (body valid until the
  // next feed() or next() call) or TooLong (its body is being skipped).
  Parsed next();

  // Whether the stream stops in the middle of a frame (a header, a body, or a
  // refused body not yet skipped): at EOF that means the peer lied about a
  // length or died mid-frame.
  bool mid_frame() const { return skip_ > 0 || pos_ < buf_.size(); }

  // Bytes held for frames not yet handed out (never a refused body).
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  uint32_t max_length_;
  std::vector<std::byte> buf_;
  size_t pos_ = 0;     // start of unparsed bytes in buf_
  uint64_t skip_ = 0;  // body bytes of a refused frame still to drop
};

}  // namespace hull::ttrpc
