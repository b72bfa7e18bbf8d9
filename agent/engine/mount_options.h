// The options of an OCI mount entry ("ro", "nosuid", "rbind", "rprivate",
// "mode=755", "rro", ...) turned into what mount(2) and mount_setattr(2) take.
// Pure: no I/O. Follows runc's option table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace hull::engine {

struct MountOptions {
  unsigned long flags = 0;                 // MS_* to set (MS_BIND, MS_REC, MS_RDONLY, ...)
  unsigned long clear = 0;                 // MS_* an option cleared ("rw", "dev", "suid", ...)
  std::vector<unsigned long> propagation;  // MS_PRIVATE|MS_REC ..., applied in order
  uint64_t rec_attr_set = 0;               // MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE) ("rro")
  uint64_t rec_attr_clr = 0;
  std::string data;  // unknown options, comma-joined, for the filesystem
  bool is_bind() const;
  // A bind mount whose flags need the extra MS_REMOUNT step (ro, nosuid, ...).
  bool bind_needs_remount() const;
};

// `field` names the options array in errors: "mounts[2].options".
Result<MountOptions> parse_mount_options(const std::vector<std::string>& options,
                                         std::string_view field);

// Propagation option names: "rprivate" -> MS_PRIVATE|MS_REC; nullopt-like 0 when unknown.
unsigned long propagation_flag(std::string_view name);

}  // namespace hull::engine
