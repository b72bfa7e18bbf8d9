// hull run: create + start; without --detach it waits for the container's
// process, forwarding the signals it receives, then deletes the container
// (unless --keep) and exits with the process's status (128 + N when killed
// by signal N, like runc). A process.terminal container in the foreground
// gets a console of run's own, relayed to run's stdio (runtime/monitor/console.h), as runc
// does; --console-socket is for --detach only.
#include <unistd.h>

#include <optional>

#include "common/oci/spec.h"
#include "runtime/cli/command.h"
#include "runtime/cli/create_flags.h"
#include "runtime/monitor/console.h"

namespace hull::cli {
namespace {

// The monitor sends the terminal during create, before create returns.
constexpr std::chrono::milliseconds kConsoleTimeout{10000};

struct RunOptions {
  CreateFlags create;
  bool detach = false;
  bool keep = false;
};

// Whether the bundle's process wants a terminal; a config.json that does not
// load is create's to report.
bool wants_terminal(const std::string& bundle) {
  auto spec = oci::load_spec_file(bundle + "/config.json");
  return spec && spec->process && spec->process->terminal.value_or(false);
}

int run_run(const GlobalOptions& g, const RunOptions& o) {
  auto ctx = context_of(g);
  if (o.detach && o.keep) {
    return report_error(Error{Errc::Invalid, 0, "--detach and --keep cannot both be used"});
  }
  // From before create to the end of the final delete: a signal then must
  // neither kill us with the container running nor leave the terminal raw.
  std::optional<container::ForegroundSignalsBlocked> blocked;
  if (!o.detach) blocked.emplace();
  container::CreateOptions co = o.create.options();
  std::optional<container::ConsoleReceiver> console;
  if (!o.detach) {
    if (!co.console_socket.empty()) {
      return report_error(Error{
          Errc::Invalid, 0, "cannot use console socket if hull will not detach or allocate tty"});
    }
    if (wants_terminal(co.bundle)) {
      auto r = container::ConsoleReceiver::listen();
      if (!r) return report_error(r.error());
      console.emplace(std::move(*r));
      co.console_socket = console->path();
    }
  }
  auto pid = container::create(ctx, co);
  if (!pid) return report_error(pid.error());
  auto abandon = [&](const Error& e) {
    (void)container::remove(ctx, o.create.id, true);
    (void)container::wait_child_monitor(*pid);
    return report_error(e);
  };
  UniqueFd master;
  if (console) {
    auto m = console->receive(kConsoleTimeout);
    if (!m) return abandon(m.error());
    master = std::move(*m);
    container::copy_window_size(master.get());
  }
  if (auto st = container::start(ctx, o.create.id); !st) return abandon(st.error());
  if (o.detach) return 0;
  Result<int> status = 0;
  if (master) {
    container::RawTerminal raw(STDIN_FILENO);
    status = container::relay_console(*pid, master.get());
  } else {
    status = container::wait_forwarding(*pid);
  }
  if (!o.keep) (void)container::remove(ctx, o.create.id, true);
  if (!status) return report_error(status.error());
  return *status;
}

}  // namespace

Command run_command() {
  return {"run", "create and run a container", [](CLI::App& sub) -> Action {
            auto o = std::make_shared<RunOptions>();
            o->create.add_to(sub);
            sub.add_flag("-d,--detach", o->detach, "detach from the container's process");
            sub.add_flag("--keep", o->keep, "do not delete the container after it exits");
            return [o](const GlobalOptions& g) { return run_run(g, *o); };
          }};
}

}  // namespace hull::cli
