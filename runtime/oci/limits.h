// Named limits for the OCI model (each module names its limits in its limits.h).
#pragma once

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

}  // namespace hull::oci
