// Seccomp allow-lists kept as data: each confined program has a
// seccomp_allowlist.txt next to its sources, turned into a table of
// SeccompRule at configure time by hull_seccomp_allowlist()
// (runtime/jail/CMakeLists.txt) and installed with install_seccomp(). A
// system call outside the list kills the whole process with SIGSYS
// (SECCOMP_RET_KILL_PROCESS).
//
// Used by hull-vsock (runtime/vsock/seccomp_allowlist.txt) and the
// monitor's relay (runtime/monitor/seccomp_allowlist.txt).
#pragma once

#include <string_view>
#include <vector>

#include "common/error.h"

namespace hull::jail {

struct SeccompRule {
  const char* syscall;
  int arg_index;  // -1: any arguments
  unsigned long long arg_value;
  int fail_errno = 0;  // not 0: the call is not made but fails with this errno
};

// Installs `rules` as the filter of every thread of the process (TSYNC),
// which every thread created later inherits. Sets PR_SET_NO_NEW_PRIVS.
// `list` names the allow-list file in errors. Irreversible.
Status install_seccomp(const std::vector<SeccompRule>& rules, std::string_view list);

}  // namespace hull::jail
