// cat(): builds error messages from strings and numbers (g++ 12 has no <format>).
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace hull::engine {

namespace detail {
inline void append(std::string& out, std::string_view s) {
  out += s;
}
inline void append(std::string& out, const char* s) {
  out += s;
}
inline void append(std::string& out, const std::string& s) {
  out += s;
}
inline void append(std::string& out, char c) {
  out += c;
}
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void append(std::string& out, T v) {
  out += std::to_string(v);
}
}  // namespace detail

template <class... A>
std::string cat(const A&... a) {
  std::string out;
  (detail::append(out, a), ...);
  return out;
}

}  // namespace hull::engine
