// Ethernet (MAC) addresses as text, read and written the same way by the
// host's network plan and the guest's network setup.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"

namespace hull {

using Mac = std::array<uint8_t, 6>;

// "02:42:ac:11:00:02" (either case); Errc::Invalid, naming the text, for any
// other form.
Result<Mac> parse_mac(std::string_view text);

// Lower-case hex pairs joined by ':'; any length (an empty span gives "").
std::string format_mac(std::span<const uint8_t> bytes);

}  // namespace hull
