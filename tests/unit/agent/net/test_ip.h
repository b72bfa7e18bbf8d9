// ip("10.0.0.1"): an address for the tables of the net tests (valid text only).
#pragma once

#include "agent/net/addr.h"

namespace hull::agent::net {

inline IpAddr ip(const char* s) {
  return *parse_ip(s);
}

}  // namespace hull::agent::net
