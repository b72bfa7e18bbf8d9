// `hull check`'s report: the host requirements create depends on, checked
// for the configuration create would use (runtime/vm/host_check.h has the
// checks themselves).
#pragma once

#include <string>
#include <vector>

#include "runtime/config/config.h"

namespace hull::container {

struct HostReport {
  std::vector<std::string> lines;  // "OK    kvm ...", one per requirement
  bool failed = false;             // a hard requirement failed
};

// Resolves the guest image as create does (paths.h), then runs every check;
// `helper_dir`: where hull's helper binaries are looked for.
HostReport check_host(config::Config cfg, const std::string& helper_dir);

}  // namespace hull::container
