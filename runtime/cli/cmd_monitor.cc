// hull __monitor: the per-container monitor (runtime/monitor/monitor.h).
// Hidden; started by `hull create`, `hull run` and `hull exec` only.
#include <fcntl.h>

#include "common/log.h"
#include "common/unique_fd.h"
#include "runtime/cli/command.h"
#include "runtime/monitor/monitor.h"

namespace hull::cli {
namespace {

int run_monitor(const GlobalOptions& g, container::MonitorArgs a) {
  a.root = g.root;
  a.log_path = g.log;
  a.log_format = g.log_format;
  a.debug = g.debug;
  // Without --log, the monitor's own lines go next to the container's state,
  // never into the container's stderr.
  static UniqueFd log_fd;
  if (g.log.empty()) {
    std::string path = g.root + "/" + a.id + "/monitor.log";
    log_fd.reset(
        ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    log::Sink sink = log::sink();
    sink.fd = log_fd ? log_fd.get() : -1;
    sink.prefix = "[ctr=" + a.id + (a.exec_id.empty() ? "" : " exec=" + a.exec_id) + "]";
    if (sink.fd >= 0) log::install(sink);
  }
  return container::monitor_main(a);
}

}  // namespace

Command monitor_command() {
  return {container::kMonitorCommand, "", [](CLI::App& sub) -> Action {
            sub.group("");  // hidden from --help
            auto a = std::make_shared<container::MonitorArgs>();
            sub.add_option("id", a->id)->required();
            sub.add_option("--bundle", a->bundle);
            sub.add_option("--exec-id", a->exec_id);
            sub.add_option("--process", a->process_file);
            sub.add_option("--sub-cgroup", a->sub_cgroup);
            sub.add_option("--console-socket", a->console_socket);
            return [a](const GlobalOptions& g) { return run_monitor(g, *a); };
          }};
}

}  // namespace hull::cli
