#include "runtime/hostcgroup/files.h"

#include "common/cgroup/stats.h"
#include "common/file.h"
#include "common/text.h"
#include "runtime/hostcgroup/limits.h"

namespace hull::hostcgroup {

int write_value(const std::string& file, const std::string& value) {
  auto w = write_kernel_file(file, value);
  return w ? 0 : w.error().sys_errno;
}

Result<std::string> read_value(const std::string& file) {
  HULL_ASSIGN(text, read_file(file, kMaxProcFileBytes));
  return std::string(trim(text));
}

std::vector<pid_t> tasks_of(const std::string& dir) {
  auto text = read_file(dir + "/cgroup.procs", kMaxProcFileBytes);
  if (!text) return {};
  return cgroup::parse_procs(*text).value_or(std::vector<pid_t>{});
}

}  // namespace hull::hostcgroup
