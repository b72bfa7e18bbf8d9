#pragma once
// runc's cpu.shares -> cgroup v2 cpu.weight (runc >= 1.3.2, opencontainers/
// cgroups): a quadratic fit through 2 -> 1, 1024 -> 100, 262144 -> 10000; 0
// stays 0 (unset). One rule for the host cgroup and the guest's.

#include <cmath>
#include <cstdint>

namespace hull {

inline uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  double l = std::log2(static_cast<double>(shares));
  double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return static_cast<uint64_t>(std::ceil(std::pow(10.0, exponent)));
}

}  // namespace hull
