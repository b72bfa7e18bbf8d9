// Shared helpers of the sandbox integration tests: a private runtime root
// per test, options pointing at the build's guest image and hull-vsock, and
// the "nothing left behind" checks (mounts, processes, files).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/sandbox/sandbox.h"

namespace hull::sandbox::testing {

// The guest image and hull-vsock exist (else the test skips).
bool environment_ready(std::string* why);

// A fresh directory /tmp/hull-it-XXXXXX; removed (when empty) by cleanup_root().
std::string make_root();

// Options for sandbox `id` under `root`: TCG/KVM by the host, 256 MiB, 1 vCPU.
SandboxOptions options_for(const std::string& root, const std::string& id);

// Mount points at or below `root` in /proc/self/mountinfo.
std::vector<std::string> mounts_under(const std::string& root);

// Live processes whose command line mentions `root` (QEMU, virtiofsd and
// hull-vsock all carry their sandbox's paths), and our own child processes.
std::vector<pid_t> processes_mentioning(const std::string& root);
std::vector<pid_t> our_children();

// Files left below `root` (recursive listing, "" when none).
std::string leftovers(const std::string& root);

// Removes `root` if it holds nothing but the empty sandboxes/ directory.
void cleanup_root(const std::string& root);

}  // namespace hull::sandbox::testing
