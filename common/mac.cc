#include "common/mac.h"

#include "common/text.h"

namespace hull {

Result<Mac> parse_mac(std::string_view text) {
  auto bad = [&] {
    return fail(Errc::Invalid, "MAC address \"" + std::string(text) +
                                   "\" is not six hex pairs like 02:42:ac:11:00:02");
  };
  if (text.size() != 17) return bad();
  Mac m{};
  for (size_t i = 0; i < m.size(); ++i) {
    int hi = hex_digit(text[i * 3]);
    int lo = hex_digit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':')) return bad();
    m[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return m;
}

std::string format_mac(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out += ':';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace hull
