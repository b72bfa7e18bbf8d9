// The host cgroup manager's reads and writes of single cgroup files, shared by
// its parts (cgroup.cc: create and limits; remove.cc: kill and removal).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"

namespace hull::hostcgroup {

// write_kernel_file (common/file.h), as 0 or the errno: callers branch on it.
int write_value(const std::string& file, const std::string& value);

// A cgroup file's value without its trailing newline.
Result<std::string> read_value(const std::string& file);

// The tasks of cgroup `dir`; none when it cannot be read (gone) or parsed.
std::vector<pid_t> tasks_of(const std::string& dir);

}  // namespace hull::hostcgroup
