// What each jailed process of a sandbox gets (docs/security.md's table):
// pure functions from the sandbox's facts to a JailSpec, unit-tested.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/jail/jail.h"

namespace hull::jail {

// Where QEMU finds its boot files inside its jail.
inline constexpr const char* kJailKernel = "/boot/vmlinux";
inline constexpr const char* kJailInitrd = "/boot/initrd.img";
// Where a program outside /usr is bound inside a jail.
inline constexpr const char* kJailExecDir = "/exe";

// rlimits (soft = hard). NPROC counts every thread of every process of the
// jail user on the host (all sandboxes' QEMUs and hull-vsocks together).
inline constexpr rlim_t kNproc = 8192;
inline constexpr rlim_t kQemuNofile = 1024;
inline constexpr rlim_t kVsockNofile = 2048;  // 1023 connections + the loop's own
// QEMU's FSIZE is the guest RAM (its memfd is sized with ftruncate, which
// FSIZE limits) plus this slack. Its console and its output go to pipes
// (runtime/sandbox/log_ring.h bounds them), which FSIZE does not cover.
inline constexpr uint64_t kQemuFileSlackBytes = 64ull << 20;
inline constexpr rlim_t kVsockFsize = 0;  // hull-vsock writes no file
// The relay: its stdio, the agent stream, gRPC's epoll and wakeup fds.
inline constexpr rlim_t kRelayNofile = 64;

struct QemuJailInput {
  std::string root;  // the sandbox's empty jail directory
  Identity id;
  std::string qemu_path;
  std::string kernel;
  std::string initrd;
  uint32_t memory_mib = 256;
  bool kvm = false;
  std::optional<gid_t> kvm_group;  // /dev/kvm's group, when only the group may open it
  // No NIC: QEMU gets an empty network namespace of its own instead of the caller's.
  bool own_network = false;
};

struct JailPlan {
  JailSpec spec;
  std::string exec_path;         // argv[0] inside the jail
  std::vector<std::string> env;  // the whole environment
  // QEMU's boot files as it sees them: kJailKernel/kJailInitrd, or the host
  // path of a file that does not exist (QEMU then names it as it fails).
  std::string kernel;
  std::string initrd;
};

// QEMU: mount, IPC and UTS namespaces (its PID namespace comes from the
// spawner; the network namespace is the caller's), /usr, the boot files,
// /dev/null, /dev/zero, /dev/urandom and /dev/kvm with KVM.
Result<JailPlan> qemu_jail(const QemuJailInput& in);

struct VsockJailInput {
  std::string root;  // the sandbox's empty jail directory
  Identity id;
  std::string binary;      // hull-vsock
  std::string socket_dir;  // the one directory it connects in (bound at the same path)
};

// hull-vsock: mount, IPC, UTS and network namespaces; /usr, its binary and
// the socket directory it serves, nothing else.
Result<JailPlan> vsock_jail(const VsockJailInput& in);

struct RelayJailInput {
  std::string root;  // the sandbox's empty jail directory
  Identity id;
  std::string binary;  // hull
};

// The monitor's relay (runtime/monitor/relay_process.h): mount, IPC, UTS and
// network namespaces; /usr and its binary, nothing else (it gets every
// stream as a descriptor). No FSIZE: the container's stdout may be a file.
Result<JailPlan> relay_jail(const RelayJailInput& in);

// The minimal environment of a jailed program: PATH and LC_ALL, and the
// caller's host cgroup owner tag (hostcgroup::kOwnerEnv) when it has one:
// in a cgroup shared by containers, delete judges by that tag which tasks
// are whose, and an untagged task may be killed as nobody's.
std::vector<std::string> jail_env();

}  // namespace hull::jail
