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
//
// Newer syscalls get ENOSYS (runc's -ENOSYS stub): when the default action
// would refuse them (anything but ALLOW, LOG, TRACE or ERRNO(ENOSYS)), a
// syscall number above the highest the profile names for its architecture
// returns ENOSYS instead of the default, so that libc falls back from a call
// the profile's author did not know (clone3 -> clone, faccessat2, openat2).
// A short check prepended to libseccomp's program does it, per architecture
// of linux.seccomp.architectures (none listed: the native one; runc adds no
// check then). Syscalls the profile's author knew keep the default.
//
// SCMP_ACT_NOTIFY is refused, naming the rule: the notification fd would have
// to reach a seccomp agent on the host (listenerPath), and an fd cannot leave
// the VM. A listenerPath without any NOTIFY rule is ignored (nothing would be
// sent to it).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/oci/spec.h"

namespace hull::engine {

struct SeccompProgram {
  std::string bpf;     // struct sock_filter[], raw bytes
  uint32_t flags = 0;  // SECCOMP_FILTER_FLAG_*
};

Result<SeccompProgram> compile_seccomp(const oci::Seccomp& profile);

// The highest syscall number the profile names, per architecture.
struct SyscallLimit {
  uint32_t audit_arch = 0;  // AUDIT_ARCH_* (x32 is AUDIT_ARCH_X86_64)
  bool x32 = false;         // x86_64's x32 ABI: numbers with bit 30 set
  uint32_t max_nr = 0;
  bool operator==(const SyscallLimit&) const = default;
};
// Names libseccomp does not know on an architecture are skipped; an
// architecture where the profile names none gets no limit.
std::vector<SyscallLimit> syscall_limits(const oci::Seccomp& profile);
// Classic BPF that returns ERRNO(ENOSYS) for a syscall above its
// architecture's limit and goes on to the instruction after it otherwise;
// empty for no limits.
std::vector<sock_filter> enosys_stub(const std::vector<SyscallLimit>& limits);

// Loads the program into the calling thread (seccomp(SECCOMP_SET_MODE_FILTER)).
// Needs no_new_privs or CAP_SYS_ADMIN.
Status load_seccomp(const SeccompProgram& prog);

// For the sync message: bpf as hex.
std::string hex_encode(std::string_view bytes);
Result<std::string> hex_decode(std::string_view hex);

}  // namespace hull::engine
