// IP addresses, prefixes and MAC addresses as the agent's network calls take
// them (text from the host) and as netlink carries them (bytes). Pure.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/mac.h"

namespace hull::agent::net {

struct IpAddr {
  int family = 0;  // AF_INET or AF_INET6; 0: none
  std::array<uint8_t, 16> bytes{};

  size_t size() const;  // 4, 16, or 0 for none
  std::span<const uint8_t> data() const { return {bytes.data(), size()}; }
  bool operator==(const IpAddr&) const = default;
};

struct Prefix {
  IpAddr addr;
  uint8_t len = 0;
  bool operator==(const Prefix&) const = default;
};

// "10.0.0.2" or "fd00::2". Invalid: anything else (names the input).
Result<IpAddr> parse_ip(std::string_view text);
// Bytes off the wire: 4 bytes are AF_INET, 16 AF_INET6, anything else is Invalid.
Result<IpAddr> ip_from_bytes(int family, std::span<const uint8_t> b);
std::string format_ip(const IpAddr& a);

// "default" (family: AF_INET unless family_hint is AF_INET6), "10.0.0.0/24",
// "fd00::/64", or an address alone (a host prefix, /32 or /128).
Result<Prefix> parse_prefix(std::string_view text, int family_hint);
// "default" for a zero-length prefix, "a.b.c.d/n" otherwise (even /32).
std::string format_prefix(const Prefix& p);

// The IPv4 broadcast address of addr/len (as `ip addr add ... brd +` sets it);
// none (family 0) for prefixes longer than 30 or for IPv6.
IpAddr broadcast_of(const IpAddr& addr, uint8_t len);

// "4" -> AF_INET, "6" -> AF_INET6, "0" -> 0 (as the Route.family field numbers them).
Result<int> family_from_proto(uint32_t v);
uint32_t family_to_proto(int family);

}  // namespace hull::agent::net
