// rlimits, oom_score_adj, scheduling and no_new_privs: the parts of the process applied
// while the init is still privileged.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/engine/fs_util.h"
#include "agent/engine/process_setup.h"
#include "agent/engine/str.h"
#include "common/file.h"

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
  auto r = write_kernel_file("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj));
  if (!r) return fail(std::move(r.error()).wrap("process.oomScoreAdj"));
  return {};
}

Status apply_scheduling(const ProcessPlan& p) {
  if (p.scheduler) {
    // struct sched_attr (SCHED_ATTR_SIZE_VER1); glibc 2.36 has no wrapper.
    struct {
      uint32_t size, policy;
      uint64_t flags;
      int32_t nice;
      uint32_t priority;
      uint64_t runtime, deadline, period;
      uint32_t util_min, util_max;
    } attr{56,
           p.scheduler->policy,
           p.scheduler->flags,
           p.scheduler->nice,
           p.scheduler->priority,
           p.scheduler->runtime,
           p.scheduler->deadline,
           p.scheduler->period,
           0,
           0};
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
      return fail_errno("process.scheduler: sched_setattr");
  }
  if (p.io_priority &&
      ::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, *p.io_priority) < 0) {
    return fail_errno("process.ioPriority: ioprio_set");
  }
  return {};
}

Status set_no_new_privs(const ProcessPlan& p) {
  if (!p.no_new_privileges) return {};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail_errno("process.noNewPrivileges");
  return {};
}

}  // namespace hull::engine
