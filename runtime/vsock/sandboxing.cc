#include "runtime/vsock/sandboxing.h"

#include <cap-ng.h>
#include <seccomp.h>

#include <ctime>
#include <memory>

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
  struct Release {
    void operator()(void* ctx) const { seccomp_release(ctx); }
  };
  std::unique_ptr<void, Release> ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) return fail(Errc::System, "seccomp_init failed");
  for (const SeccompRule& r : seccomp_allowlist()) {
    const int nr = seccomp_syscall_resolve_name(r.syscall);
    if (nr == __NR_SCMP_ERROR)
      return fail(Errc::Internal,
                  std::string("seccomp allow-list names unknown syscall ") + r.syscall);
    int rc;
    if (r.arg_index < 0) {
      rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0);
    } else {
      const scmp_arg_cmp cmp{static_cast<unsigned>(r.arg_index), SCMP_CMP_EQ, r.arg_value, 0};
      rc = seccomp_rule_add_array(ctx.get(), SCMP_ACT_ALLOW, nr, 1, &cmp);
    }
    if (rc < 0)
      return std::unexpected(
          Error{Errc::System, -rc, std::string("seccomp rule for ") + r.syscall});
  }
  if (const int rc = seccomp_load(ctx.get()); rc < 0)
    return std::unexpected(Error{Errc::System, -rc, "seccomp_load"});
  return {};
}

Status enter_sandbox() {
  // Log lines use local time: load /etc/localtime now, openat is not allowed later.
  ::tzset();
  HULL_TRY(wrap(drop_capabilities(), "dropping capabilities"));
  HULL_TRY(wrap(install_seccomp(), "installing seccomp"));
  return {};
}

}  // namespace hull::vsock
