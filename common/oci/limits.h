// Named limits for the OCI model (each module names its limits in its limits.h).
#pragma once

#include <chrono>
#include <cstddef>

namespace hull::oci {

// Largest config.json accepted (parse_spec, load_spec_file). Real specs are a
// few KiB; a docker spec with the default seccomp profile is about 60 KiB, and
// a CRI spec with thousands of annotations or devices stays below 1 MiB. 16 MiB
// leaves two orders of magnitude of headroom while a hostile file cannot make
// the runtime allocate more than a small multiple of that for the DOM.
inline constexpr size_t kMaxConfigBytes = size_t{16} << 20;

// Deepest nesting of JSON arrays/objects accepted. The modelled spec is at
// most 6 levels deep (linux.seccomp.syscalls[].args[]); 64 leaves room for
// annotations-like data in unknown keys while bounding the work on input such
// as 100000 '['.
inline constexpr size_t kMaxJsonDepth = 64;

// Longest wait for a container's lock (StateStore::lock/create) before the
// command gives up and names the holder. The longest legitimate holder is a
// `create` booting its VM under TCG on a loaded machine (tens of seconds);
// a holder that is stuck (it was frozen with a cgroup, or hangs) must not
// hang every later command with it.
inline constexpr std::chrono::seconds kLockWait{60};

}  // namespace hull::oci
