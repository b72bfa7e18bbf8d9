// hull run: create + start; without --detach it waits for the container's
// process, forwarding the signals it receives, then deletes the container
// (unless --keep) and exits with the process's status (128 + N when killed
// by signal N, like runc).
#include "runtime/cli/command.h"
#include "runtime/cli/create_flags.h"

namespace hull::cli {
namespace {

struct RunOptions {
  CreateFlags create;
  bool detach = false;
  bool keep = false;
};

int run_run(const GlobalOptions& g, const RunOptions& o) {
  auto ctx = context_of(g);
  if (o.detach && o.keep) {
    return report_error(Error{Errc::Invalid, 0, "--detach and --keep cannot both be used"});
  }
  auto pid = container::create(ctx, o.create.options());
  if (!pid) return report_error(pid.error());
  auto cleanup = [&] {
    if (!o.keep) (void)container::remove(ctx, o.create.id, true);
  };
  if (auto st = container::start(ctx, o.create.id); !st) {
    (void)container::remove(ctx, o.create.id, true);
    (void)container::wait_child_monitor(*pid);
    return report_error(st.error());
  }
  if (o.detach) return 0;
  auto status = container::wait_forwarding(*pid);
  cleanup();
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
