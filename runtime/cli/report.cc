#include <unistd.h>

#include <climits>
#include <cstdio>

#include "common/log.h"
#include "runtime/cli/command.h"

namespace hull::cli {

int report_error(const Error& err) {
  std::string msg = err.what();
  // runc's fatal(): the error as a log line (logrus text or JSON; containerd's
  // and docker's runc shims read the last one from the --log file), and the
  // plain message on stderr too when the log goes elsewhere.
  log::error(msg);
  if (log::sink().fd != 2) std::fprintf(stderr, "%s\n", msg.c_str());
  return 1;
}

container::Context context_of(const GlobalOptions& g) {
  return container::Context{g.root, g.log, g.log_format, g.debug, g.systemd_cgroup};
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
