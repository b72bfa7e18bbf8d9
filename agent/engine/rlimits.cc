// rlimits, oom_score_adj and no_new_privs: the parts of the process applied
// while the init is still privileged.
#include <sys/prctl.h>
#include <sys/resource.h>

#include "agent/engine/fs_util.h"
#include "agent/engine/process_setup.h"
#include "agent/engine/str.h"

namespace hull::engine {

Status apply_rlimits(const ProcessPlan& p) {
  for (const auto& r : p.rlimits) {
    rlimit lim{r.soft, r.hard};
    if (::prlimit(0, static_cast<__rlimit_resource>(r.resource), &lim, nullptr) < 0) {
      return fail_errno(cat(r.field, ": setrlimit"));
    }
  }
  return {};
}

Status apply_oom_score_adj(const ProcessPlan& p) {
  if (!p.oom_score_adj) return {};
  auto r = write_string("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj));
  if (!r) return fail(std::move(r.error()).wrap("process.oomScoreAdj"));
  return {};
}

Status set_no_new_privs(const ProcessPlan& p) {
  if (!p.no_new_privileges) return {};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail_errno("process.noNewPrivileges");
  return {};
}

}  // namespace hull::engine
