// Post-setup confinement of hull-vsock (docs/development.md "Code facing
// the guest"): drop every
// capability (libcap-ng; hull-vsock needs none once its sockets listen) and
// install a seccomp allow-list (runtime/jail/seccomp.h) compiled in from
// runtime/vsock/seccomp_allowlist.txt. A syscall outside the list kills the
// whole process with SIGSYS.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/jail/seccomp.h"

namespace hull::vsock {

using jail::SeccompRule;

// The compiled-in allow-list.
const std::vector<SeccompRule>& seccomp_allowlist();

Status drop_capabilities();
Status install_seccomp();

// drop_capabilities(), then install_seccomp(). Irreversible.
Status enter_sandbox();

}  // namespace hull::vsock
