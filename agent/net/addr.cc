#include "agent/net/addr.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

#include "common/text.h"

namespace hull::agent::net {

size_t IpAddr::size() const {
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

Result<IpAddr> parse_ip(std::string_view text) {
  // inet_pton needs a NUL-terminated string; the longest IPv6 text is 45 characters.
  if (text.empty() || text.size() > 45) {
    return fail(Errc::Invalid, "IP address " + quote(text) + " is not an IPv4 or IPv6 address");
  }
  std::string s(text);
  IpAddr a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return fail(Errc::Invalid, "IP address " + quote(text) + " is not an IPv4 or IPv6 address");
}

Result<IpAddr> ip_from_bytes(int family, std::span<const uint8_t> b) {
  IpAddr a;
  if (family == AF_INET && b.size() == 4) {
    a.family = AF_INET;
  } else if (family == AF_INET6 && b.size() == 16) {
    a.family = AF_INET6;
  } else {
    return fail(Errc::Invalid, "address of " + std::to_string(b.size()) +
                                   " bytes does not fit address family " + std::to_string(family));
  }
  std::memcpy(a.bytes.data(), b.data(), b.size());
  return a;
}

std::string format_ip(const IpAddr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.size() == 0 || !::inet_ntop(a.family, a.bytes.data(), buf, sizeof buf)) return "";
  return buf;
}

Result<Prefix> parse_prefix(std::string_view text, int family_hint) {
  Prefix p;
  if (text == "default") {
    p.addr.family = family_hint == AF_INET6 ? AF_INET6 : AF_INET;
    return p;
  }
  size_t slash = text.find('/');
  HULL_ASSIGN(addr, parse_ip(text.substr(0, slash)));
  p.addr = addr;
  unsigned max = addr.family == AF_INET ? 32 : 128;
  if (slash == std::string_view::npos) {
    p.len = static_cast<uint8_t>(max);
    return p;
  }
  std::string_view n = text.substr(slash + 1);
  unsigned len = 0;
  auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), len);
  if (n.empty() || ec != std::errc() || end != n.data() + n.size() || len > max) {
    return fail(Errc::Invalid, "prefix " + quote(text) + ": the length after '/' must be 0-" +
                                   std::to_string(max));
  }
  p.len = static_cast<uint8_t>(len);
  return p;
}

std::string format_prefix(const Prefix& p) {
  if (p.len == 0) return "default";
  return format_ip(p.addr) + "/" + std::to_string(p.len);
}

IpAddr broadcast_of(const IpAddr& addr, uint8_t len) {
  if (addr.family != AF_INET || len > 30) return {};
  IpAddr b = addr;
  uint32_t host_mask = len == 0 ? 0xffffffffu : (0xffffffffu >> len);
  for (int i = 0; i < 4; ++i) {
    b.bytes[static_cast<size_t>(i)] |= static_cast<uint8_t>(host_mask >> (24 - 8 * i));
  }
  return b;
}

Result<int> family_from_proto(uint32_t v) {
  if (v == 0) return 0;
  if (v == 4) return AF_INET;
  if (v == 6) return AF_INET6;
  return fail(Errc::Invalid, "address family " + std::to_string(v) + " is not 4, 6 or 0");
}

uint32_t family_to_proto(int family) {
  return family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
}

}  // namespace hull::agent::net
