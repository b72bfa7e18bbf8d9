// Pure cgroup v2 pieces: linux.resources -> (file, value) writes with runc's
// conversions, cgroupsPath -> a path below the cgroup root, and the parsers of
// the stat files. No I/O; the Cgroup class (cgroup.h) does the writing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cgroup_weight.h"
#include "common/error.h"
#include "runtime/oci/spec.h"

namespace hull::engine {

struct CgroupWrite {
  std::string file;   // "memory.max"
  std::string value;  // "1048576"
  std::string field;  // "linux.resources.memory.limit", for errors
};

// In the order they must be written. Not here: devices (a BPF program,
// device_filter.h). Not applied (cgroup v1 only; see container.h): memory.kernel,
// memory.kernelTCP, memory.swappiness, memory.disableOOMKiller,
// memory.useHierarchy, blockIO.leafWeight, network.
Result<std::vector<CgroupWrite>> cgroup_writes(const oci::Resources& r);

// cpu.shares -> cpu.weight: common/cgroup_weight.h.
// runc: 1 + (w - 10) * 9999 / 990, [10, 1000] -> [1, 10000]; 0 stays 0.
uint64_t blkio_weight_to_io_weight(uint64_t weight);
// runc's ConvertMemorySwapToCgroupV2Value: memory.swap.max = swap - limit.
Result<int64_t> memory_swap_to_v2(int64_t swap, int64_t limit);

// The cgroup of a container relative to the cgroup root, always starting
// with '/': absent -> "/hull/<id>"; "/a/b" and "a/b" -> "/a/b";
// "slice:prefix:name" (systemd style) -> "/<expanded slice>/<prefix>-<name>.scope".
// ".." components are refused.
Result<std::string> cgroup_relative_path(const std::optional<std::string>& cgroups_path,
                                         std::string_view id);

// "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "/".
Result<std::string> expand_slice(std::string_view slice);

// "key value" lines (cpu.stat, memory.stat, memory.events).
Result<std::map<std::string, uint64_t>> parse_flat_keyed(std::string_view text);

// A single-value file: a number, or "max" (nullopt).
Result<std::optional<uint64_t>> parse_single_value(std::string_view text);

struct IoDeviceStat {
  uint32_t major = 0;
  uint32_t minor = 0;
  std::map<std::string, uint64_t> fields;  // rbytes wbytes rios wios dbytes dios
};
// io.stat: "8:0 rbytes=1 wbytes=2 ..." per line.
Result<std::vector<IoDeviceStat>> parse_io_stat(std::string_view text);

}  // namespace hull::engine
