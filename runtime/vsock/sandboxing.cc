#include "runtime/vsock/sandboxing.h"

#include <cap-ng.h>

#include <ctime>

namespace hull::vsock {

const std::vector<SeccompRule>& seccomp_allowlist() {
  static const std::vector<SeccompRule> rules = {
#include "runtime/vsock/seccomp_allowlist.inc"
  };
  return rules;
}

Status drop_capabilities() {
  // The bounding set can only be cleared with CAP_SETPCAP; without it only the
  // effective, permitted, inheritable and ambient sets are ours to empty.
  if (capng_get_caps_process() != 0) return fail(Errc::System, "capng_get_caps_process failed");
  const bool has_setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) != 0;
  capng_clear(CAPNG_SELECT_ALL);
  const int rc = capng_apply(has_setpcap ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS);
  if (rc != 0) return fail(Errc::System, "capng_apply failed with " + std::to_string(rc));
  return {};
}

Status install_seccomp() {
  return jail::install_seccomp(seccomp_allowlist(), "runtime/vsock/seccomp_allowlist.txt");
}

Status enter_sandbox() {
  // Log lines use local time: load /etc/localtime now, openat is not allowed later.
  ::tzset();
  HULL_TRY(wrap(drop_capabilities(), "dropping capabilities"));
  HULL_TRY(wrap(install_seccomp(), "installing seccomp"));
  return {};
}

}  // namespace hull::vsock
