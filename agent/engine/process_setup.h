// The process part of the spec, applied by the container init (for create and
// for exec alike) in runc's order:
//   apply_rlimits, apply_oom_score_adj,
//   apply_scheduling                          while still privileged
//   set_no_new_privs                          process.noNewPrivileges
//   [seccomp here when noNewPrivileges is off: loading needs CAP_SYS_ADMIN]
//   enter_cwd_privileged                      chdir while still root
//   drop_bounding_set                         needs CAP_SETPCAP
//   switch_user                               stdio to the user, keeps caps across setuid
//                                             (KEEPCAPS)
//   apply_capabilities                        effective/permitted/inheritable (libcap-ng), ambient
//   enter_cwd                                 chdir again if root could not, umask
//   [seccomp here when noNewPrivileges is on]
//   exec_process                              default signals, stray fds closed, execve
#pragma once

#include <string>
#include <vector>

#include "agent/engine/plan.h"
#include "common/error.h"

namespace hull::engine {

Status apply_rlimits(const ProcessPlan& p);
Status apply_oom_score_adj(const ProcessPlan& p);
Status set_no_new_privs(const ProcessPlan& p);
// process.scheduler (sched_setattr) and process.ioPriority (ioprio_set).
Status apply_scheduling(const ProcessPlan& p);

Status drop_bounding_set(const CapSets& caps);
// Set before switch_user when capabilities will be applied afterwards.
Status keep_caps(bool keep);
Status apply_capabilities(const CapSets& caps);

// As runc before it switches user: stdin, stdout and stderr (pipes, sockets,
// the pty slave) get `uid` as their owner, their group kept (a pty slave
// stays in devpts' gid=5, tty), so the user can reopen them (/dev/stdout,
// `tty`). /dev/null is left alone, and so is an fd the kernel will not chown
// (unmapped ids, read-only /dev).
Status fix_stdio_ownership(uid_t uid);

// fix_stdio_ownership, setgroups(additionalGids) (skipped when
// `setgroups_denied`), setresgid, setresuid. Adds HOME from the container's
// /etc/passwd (or "/") when env lacks it, as runc does.
Status switch_user(ProcessPlan& p, bool setgroups_denied);

// process.cwd as runc enters it: first while still root, so a directory the
// user cannot search (/root for uid 1000) works; true when that failed with
// EACCES/EPERM and enter_cwd must try again as the user (a directory only the
// user can reach). Any other error (ENOENT, ENOTDIR) fails here.
Result<bool> enter_cwd_privileged(const ProcessPlan& p);

// The second chdir when `chdir_again`, then process.user.umask (or 022).
Status enter_cwd(const ProcessPlan& p, bool chdir_again);

// args[0] resolved against PATH of the process's env (or runc's default PATH);
// "exec: \"x\": executable file not found in $PATH" otherwise.
Result<std::string> find_executable(const ProcessPlan& p);

// Resets signal dispositions and mask, closes every fd >= 3 on exec, execve.
// Returns only on failure.
Error exec_process(const ProcessPlan& p, const std::string& path);

}  // namespace hull::engine
