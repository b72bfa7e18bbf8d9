// Network replies (agent_reply.h: parse_interface, parse_updated_interface,
// parse_routes).
#include <arpa/inet.h>

#include <cctype>

#include "runtime/sandbox/agent_reply.h"

#include "runtime/sandbox/agent_reply_check.h"

namespace hull::sandbox {

using namespace detail;

namespace {

// 4 or 6 for a valid IPv4 or IPv6 address, 0 otherwise.
int ip_family(const std::string& a) {
  unsigned char buf[16];
  if (::inet_pton(AF_INET, a.c_str(), buf) == 1) return 4;
  if (::inet_pton(AF_INET6, a.c_str(), buf) == 1) return 6;
  return 0;
}

Status check_ifname(std::string_view call, const std::string& field, const std::string& name,
                    bool allow_empty) {
  if (name.empty() && allow_empty) return {};
  if (name.empty()) return bad(call, field + " is empty");
  HULL_TRY(check_plain_text(call, field, name, kMaxInterfaceNameBytes));
  if (name.find_first_of("/: \t") != std::string::npos) {
    return bad(call, field + " " + quoted(name) + " is no interface name");
  }
  return {};
}

Status check_ip(std::string_view call, const std::string& field, const std::string& a) {
  if (a.empty()) return {};
  if (a.size() > 64 || ip_family(a) == 0) {
    return bad(call, field + " " + quoted(printable(a, 64)) + " is no IP address");
  }
  return {};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<agent::Interface> parse_interface(agent::Interface r, std::string_view call) {
  HULL_TRY(check_ifname(call, "name", r.name(), false));
  const std::string& mac = r.mac();
  bool mac_ok = mac.empty() || mac.size() == 17;
  for (size_t i = 0; mac_ok && i < mac.size(); ++i) {
    mac_ok = i % 3 == 2 ? mac[i] == ':' : std::isxdigit(static_cast<unsigned char>(mac[i])) != 0;
  }
  if (!mac_ok) return bad(call, "mac " + quoted(printable(mac, 64)) + " is no MAC address");
  HULL_TRY(check_at_most(call, "mtu", r.mtu(), 65535));
  HULL_TRY(check_at_most(call, "addresses", static_cast<uint64_t>(r.addresses_size()),
                         kMaxReplyAddresses));
  for (const auto& a : r.addresses()) {
    int family = ip_family(a.address());
    if (a.address().size() > 64 || family == 0) {
      return bad(call, "address " + quoted(printable(a.address(), 64)) + " is no IP address");
    }
    uint32_t max = family == 4 ? 32 : 128;
    if (a.prefix_len() > max) {
      return bad(call, "address " + a.address() + " has prefix length " +
                           std::to_string(a.prefix_len()) + " (at most " + std::to_string(max) +
                           ")");
    }
  }
  return r;
}

Result<agent::Interface> parse_updated_interface(agent::Interface r,
                                                 const agent::Interface& asked) {
  constexpr std::string_view call = "UpdateInterface";
  HULL_ASSIGN(i, parse_interface(std::move(r), call));
  if (i.name() != asked.name() || lower(i.mac()) != lower(asked.mac())) {
    return bad(call, "answered for interface " + quoted(i.name()) + " (" + i.mac() +
                         "), asked for " + quoted(asked.name()) + " (" + asked.mac() + ")");
  }
  if (asked.mtu() != 0 && i.mtu() != asked.mtu()) {
    return bad(call, "interface " + i.name() + " has MTU " + std::to_string(i.mtu()) +
                         ", asked for " + std::to_string(asked.mtu()));
  }
  return i;
}

Result<agent::Routes> parse_routes(agent::Routes r, std::string_view call) {
  HULL_TRY(check_at_most(call, "routes", static_cast<uint64_t>(r.routes_size()), kMaxReplyRoutes));
  for (const auto& rt : r.routes()) {
    const std::string& d = rt.destination();
    if (d != "default" && d != "::/0") {
      auto slash = d.find('/');
      std::string addr = d.substr(0, slash);
      int family = d.size() <= 64 ? ip_family(addr) : 0;
      bool ok = family != 0 && slash != std::string::npos && slash + 1 < d.size() &&
                d.size() - slash - 1 <= 3 &&
                d.find_first_not_of("0123456789", slash + 1) == std::string::npos &&
                std::stoul(d.substr(slash + 1)) <= (family == 4 ? 32u : 128u);
      if (!ok) {
        return bad(call, "destination " + quoted(printable(d, 64)) + " is no route destination");
      }
    }
    HULL_TRY(check_ip(call, "gateway", rt.gateway()));
    HULL_TRY(check_ip(call, "source", rt.source()));
    HULL_TRY(check_ifname(call, "device", rt.device(), true));
    HULL_TRY(check_at_most(call, "scope", rt.scope(), 255));
    if (rt.family() != 0 && rt.family() != 4 && rt.family() != 6) {
      return bad(call, "family " + std::to_string(rt.family()) + " (0, 4 or 6)");
    }
    HULL_TRY(check_at_most(call, "mtu", rt.mtu(), 65535));
  }
  return r;
}

}  // namespace hull::sandbox
