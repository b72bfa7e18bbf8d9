// Small pure text helpers shared by host and guest code: trimming, splitting
// and whole-string number parsing. No I/O.
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace hull {

// `s` without leading and trailing blanks (space, tab, CR, LF).
std::string_view trim(std::string_view s);

// The fields of `s` between `sep`s, empty ones included:
// "a,,b" -> {"a", "", "b"}; "" -> {""}.
std::vector<std::string_view> split(std::string_view s, char sep);

// True when all of `s` is one number in `base` (10 unless given) in T's range
// (no blanks, no '+', no "0x", not empty); *out holds it then. On false *out
// is unspecified.
template <std::integral T>
bool parse_number(std::string_view s, T* out, int base = 10) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

// 0-15 for a hex digit of either case, -1 for any other character.
int hex_digit(char c);

// `s` in double quotes for an error message: control bytes as \xNN, and cut
// after 120 bytes with "...".
std::string quote(std::string_view s);

}  // namespace hull
