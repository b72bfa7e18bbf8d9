#include <unistd.h>

#include <climits>
#include <cstdio>

#include "common/log.h"
#include "runtime/cli/command.h"

namespace hull::cli {

int report_error(const Error& err) {
  std::string msg = err.what();
  // The log line: containerd's and docker's runc shims read the last error
  // from the --log file (JSON), like runc's.
  if (log::sink().fd != 2) log::error(msg);
  std::fprintf(stderr, "%s\n", msg.c_str());
  return 1;
}

container::Context context_of(const GlobalOptions& g) {
  return container::Context{g.root, g.log, g.log_format, g.debug};
}

std::string helper_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string exe(buf, static_cast<size_t>(n));
  auto slash = exe.rfind('/');
  return slash == std::string::npos ? "." : exe.substr(0, slash);
}

}  // namespace hull::cli
