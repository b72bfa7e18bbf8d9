#include "runtime/vsock/connect_line.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "runtime/vsock/limits.h"

namespace hull::vsock {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view next_word(std::string_view& s) {
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  size_t e = b;
  while (e < s.size() && !std::isspace(static_cast<unsigned char>(s[e]))) ++e;
  std::string_view w = s.substr(b, e - b);
  s.remove_prefix(e);
  return w;
}

}  // namespace

Checked<uint32_t> parse_connect_line(std::string_view line) {
  if (line.size() + 1 > limits::kConnectLineMax)
    return fault(FaultKind::ConnectLineTooLong, line.size() + 1, limits::kConnectLineMax);
  std::string_view rest = line;
  const std::string_view cmd = next_word(rest);
  const std::string_view port = next_word(rest);
  if (!iequals(cmd, "connect") || port.empty() || !next_word(rest).empty())
    return fault(FaultKind::ConnectLineSyntax);
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || ptr != port.data() + port.size())
    return fault(FaultKind::ConnectBadPort);
  return value;
}

}  // namespace hull::vsock
