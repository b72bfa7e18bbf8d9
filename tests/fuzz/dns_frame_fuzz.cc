// libFuzzer target for the DNS relay's stream parsing (common/dns_frame.h): a
// byte stream as a guest would send it, fed in pieces whose sizes come from the
// input. Every message handed out is a whole DNS message within the bounds, and
// the reader never holds more than the bytes fed and not yet taken.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/dns_frame.h"

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hull::dns;
  if (size == 0) return 0;
  (void)parse_mode(data[0]);
  hull::dns::FrameReader reader;
  size_t fed = 0, taken = 0;
  size_t off = 1;
  while (off < size) {
    size_t piece = 1 + data[off - 1] % 97;
    piece = std::min(piece, size - off);
    reader.feed({data + off, piece});
    fed += piece;
    off += piece;
    for (;;) {
      auto m = reader.next();
      if (!m) return 0;  // a bad frame ends the stream
      if (!*m) break;
      require((*m)->size() >= kHeaderBytes && (*m)->size() <= kMaxMessageBytes);
      taken += kLengthBytes + (*m)->size();
      auto again = make_frame(**m);
      require(again && again->size() == kLengthBytes + (*m)->size());
    }
    require(reader.buffered() == fed - taken);
  }
  return 0;
}
