#include "ttrpc/frame.h"

#include <algorithm>

namespace hull::ttrpc {
namespace {

uint32_t read_be32(std::span<const std::byte> b) {
  return (std::to_integer<uint32_t>(b[0]) << 24) | (std::to_integer<uint32_t>(b[1]) << 16) |
         (std::to_integer<uint32_t>(b[2]) << 8) | std::to_integer<uint32_t>(b[3]);
}

void write_be32(std::byte* out, uint32_t v) {
  out[0] = static_cast<std::byte>(v >> 24);
  out[1] = static_cast<std::byte>(v >> 16);
  out[2] = static_cast<std::byte>(v >> 8);
  out[3] = static_cast<std::byte>(v);
}

}  // namespace

std::array<std::byte, kHeaderSize> encode_header(const FrameHeader& h) {
  std::array<std::byte, kHeaderSize> out{};
  write_be32(out.data(), h.length);
  write_be32(out.data() + 4, h.stream_id);
  out[8] = static_cast<std::byte>(h.type);
  out[9] = static_cast<std::byte>(h.flags);
  return out;
}

Parsed parse_frame(std::span<const std::byte> in, uint32_t max_length) {
  Parsed p;
  if (in.size() < kHeaderSize) return p;  // NeedMore, need = kHeaderSize
  p.header.length = read_be32(in.subspan(0, 4));
  p.header.stream_id = read_be32(in.subspan(4, 4));
  p.header.type = std::to_integer<uint8_t>(in[8]);
  p.header.flags = std::to_integer<uint8_t>(in[9]);
  if (p.header.length > max_length) {
    p.kind = ParseKind::TooLong;
    p.consumed = kHeaderSize;
    return p;
  }
  const size_t total = kHeaderSize + p.header.length;  // <= 10 + 4 GiB: no overflow in size_t
  if (in.size() < total) {
    p.need = total;
    return p;
  }
  p.kind = ParseKind::Frame;
  p.body = in.subspan(kHeaderSize, p.header.length);
  p.consumed = total;
  return p;
}

void FrameReader::feed(std::span<const std::byte> bytes) {
  if (skip_ > 0) {
    const size_t drop = static_cast<size_t>(std::min<uint64_t>(skip_, bytes.size()));
    skip_ -= drop;
    bytes = bytes.subspan(drop);
  }
  if (bytes.empty()) return;
  if (pos_ > 0) {  // drop what next() already handed out
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

Parsed FrameReader::next() {
  std::span<const std::byte> rest(buf_.data() + pos_, buf_.size() - pos_);
  Parsed p = parse_frame(rest, max_length_);
  switch (p.kind) {
    case ParseKind::NeedMore:
      break;
    case ParseKind::Frame:
      pos_ += p.consumed;
      break;
    case ParseKind::TooLong: {
      // Skip the refused body: what is buffered now, the rest as it is fed.
      const size_t buffered = rest.size() - kHeaderSize;
      const size_t drop = std::min<size_t>(buffered, p.header.length);
      pos_ += kHeaderSize + drop;
      skip_ = p.header.length - drop;
      break;
    }
  }
  if (p.kind != ParseKind::Frame && pos_ == buf_.size()) {
    // Everything handed out (a Frame's body stays valid until the next call):
    // start over, and let go of the capacity a large frame left behind.
    buf_.clear();
    pos_ = 0;
    if (buf_.capacity() > 2 * kReadChunk) buf_.shrink_to_fit();
  }
  return p;
}

}  // namespace hull::ttrpc
