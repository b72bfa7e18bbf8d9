#include "runtime/jail/seccomp.h"

#include <seccomp.h>

#include <memory>
#include <string>

namespace hull::jail {

Status install_seccomp(const std::vector<SeccompRule>& rules, std::string_view list) {
  struct Release {
    void operator()(void* ctx) const { seccomp_release(ctx); }
  };
  std::unique_ptr<void, Release> ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) return fail(Errc::System, "seccomp_init failed");
  // Every thread of the process at once, also those that exist already.
  if (const int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc < 0) {
    return std::unexpected(Error{Errc::System, -rc, std::string(list) + ": seccomp TSYNC"});
  }
  for (const SeccompRule& r : rules) {
    const int nr = seccomp_syscall_resolve_name(r.syscall);
    if (nr == __NR_SCMP_ERROR) {
      return fail(Errc::Internal, std::string(list) + " names unknown syscall " + r.syscall);
    }
    const uint32_t action = r.fail_errno ? SCMP_ACT_ERRNO(r.fail_errno) : SCMP_ACT_ALLOW;
    int rc;
    if (r.arg_index < 0) {
      rc = seccomp_rule_add(ctx.get(), action, nr, 0);
    } else {
      const scmp_arg_cmp cmp{static_cast<unsigned>(r.arg_index), SCMP_CMP_EQ, r.arg_value, 0};
      rc = seccomp_rule_add_array(ctx.get(), action, nr, 1, &cmp);
    }
    if (rc < 0) {
      return std::unexpected(
          Error{Errc::System, -rc, std::string(list) + ": seccomp rule for " + r.syscall});
    }
  }
  if (const int rc = seccomp_load(ctx.get()); rc < 0) {
    return std::unexpected(Error{Errc::System, -rc, std::string(list) + ": seccomp_load"});
  }
  return {};
}

}  // namespace hull::jail
