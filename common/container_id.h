// The one container-id rule, shared by the host (runtime/: state store,
// sandbox layout) and the guest (agent/engine): runc's. An id is checked with
// it before anything is made for the container, and before it is joined into
// any path.
//
//   characters   A-Z a-z 0-9 _ + , - .   (runc's [\w+-\.]: the class's "+-."
//                                          is a range, which takes in ',')
//   not          "." or ".."              (a path component of its own)
//   length       1 .. kMaxContainerIdBytes (a file name: the state directory)
#pragma once

#include <cstddef>
#include <string_view>

#include "common/error.h"

namespace hull {

// NAME_MAX: the id names the container's state directory under --root.
inline constexpr size_t kMaxContainerIdBytes = 255;

// Errc::Invalid "invalid container ID format: "<id>": <which rule>".
Status validate_container_id(std::string_view id);

}  // namespace hull
