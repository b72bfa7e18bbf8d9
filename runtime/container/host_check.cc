#include "runtime/container/host_check.h"

#include "runtime/container/paths.h"
#include "runtime/vm/host_check.h"

namespace hull::container {

HostReport check_host(config::Config cfg, const std::string& helper_dir) {
  resolve_guest_image(cfg);  // what create will boot
  auto lines = vm::run_host_checks(cfg, helper_dir);
  HostReport r;
  for (const auto& l : lines) r.lines.push_back(vm::format_check_line(l));
  r.failed = vm::any_failed(lines);
  return r;
}

}  // namespace hull::container
