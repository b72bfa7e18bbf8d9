// The OCI seccomp profile (linux.seccomp) compiled with libseccomp into a
// classic BPF program, in the engine, before anything is started: every error
// names its field. The container init only loads the finished program with
// seccomp(2), as late as possible (right before execve, like runc).
//
// Semantics follow runc: unknown syscall names are skipped (profiles list
// syscalls newer than libseccomp), a rule whose action equals the default is
// skipped, ERRNO/TRACE without errnoRet use EPERM, several conditions on the
// same argument index become one rule per condition (OR), otherwise all
// conditions form one rule (AND), MASKED_EQ takes value as mask and valueTwo
// as the datum.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"
#include "runtime/oci/spec.h"

namespace hull::engine {

struct SeccompProgram {
  std::string bpf;     // struct sock_filter[], raw bytes
  uint32_t flags = 0;  // SECCOMP_FILTER_FLAG_*
};

Result<SeccompProgram> compile_seccomp(const oci::Seccomp& profile);

// Loads the program into the calling thread (seccomp(SECCOMP_SET_MODE_FILTER)).
// Needs no_new_privs or CAP_SYS_ADMIN.
Status load_seccomp(const SeccompProgram& prog);

// For the sync message: bpf as hex.
std::string hex_encode(std::string_view bytes);
Result<std::string> hex_decode(std::string_view hex);

}  // namespace hull::engine
