// libFuzzer target for ttrpc framing (ttrpc/frame.h): what any peer of the
// shim's ttrpc server or client can put on the socket.
//
// The input is parsed two ways:
//  1. parse_frame() on the whole input, with the real limit and a small one;
//  2. fed to a FrameReader in pieces whose sizes come from the input itself,
//     and compared frame by frame with a reference walk that uses
//     parse_frame() on the unsplit stream: splitting must never change what
//     comes out.
// Broken promises (a body not `length` long, consumed beyond the input, a
// refused length within the limit) trap.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ttrpc/frame.h"

namespace {

using namespace hull::ttrpc;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

void check(const Parsed& p, std::span<const std::byte> in, uint32_t max) {
  switch (p.kind) {
    case ParseKind::NeedMore:
      require(p.need > in.size());
      break;
    case ParseKind::Frame:
      require(p.header.length <= max);
      require(p.body.size() == p.header.length);
      require(p.consumed == kHeaderSize + p.header.length && p.consumed <= in.size());
      require(p.body.data() == in.data() + kHeaderSize);
      break;
    case ParseKind::TooLong:
      require(p.header.length > max);
      require(p.consumed == kHeaderSize && in.size() >= kHeaderSize);
      break;
  }
}

struct Event {
  ParseKind kind;
  FrameHeader header;
  std::vector<std::byte> body;
  bool operator==(const Event&) const = default;
};

// The frames of the whole stream, without splitting.
std::vector<Event> reference(std::span<const std::byte> in, uint32_t max) {
  std::vector<Event> out;
  for (;;) {
    Parsed p = parse_frame(in, max);
    check(p, in, max);
    if (p.kind == ParseKind::NeedMore) return out;
    out.push_back({p.kind, p.header, {p.body.begin(), p.body.end()}});
    in = in.subspan(p.consumed);
    if (p.kind == ParseKind::TooLong) {
      if (in.size() < p.header.length) return out;  // the rest is the skipped body
      in = in.subspan(p.header.length);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // SAFETY: uint8_t and std::byte have the same size and alignment.
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  check(parse_frame(in), in, kMaxMessageLength);

  // A small limit, so refused frames and their skipped bodies are common.
  constexpr uint32_t kSmall = 64;
  const std::vector<Event> want = reference(in, kSmall);

  // Piece sizes 1..16 from the input's bytes, cycling.
  FrameReader reader(kSmall);
  std::vector<Event> got;
  size_t off = 0;
  size_t i = 0;
  while (off < in.size()) {
    const size_t n =
        std::min<size_t>(in.size() - off, 1 + std::to_integer<size_t>(in[i++ % size]) % 16);
    reader.feed(in.subspan(off, n));
    off += n;
    for (Parsed p = reader.next(); p.kind != ParseKind::NeedMore; p = reader.next()) {
      require(p.kind != ParseKind::Frame || p.body.size() == p.header.length);
      got.push_back({p.kind, p.header, {p.body.begin(), p.body.end()}});
    }
    require(reader.buffered() <= kHeaderSize + kSmall + 16);
  }
  require(got == want);
  return 0;
}
