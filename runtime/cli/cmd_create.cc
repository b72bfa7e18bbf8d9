// hull create: boots the container's VM, creates the container in it (not
// started), starts its monitor and prints nothing; the monitor's pid is the
// container's pid (--pid-file, written last).
#include "runtime/cli/command.h"
#include "runtime/cli/create_flags.h"

namespace hull::cli {
namespace {

int run_create(const GlobalOptions& g, const CreateFlags& f) {
  auto pid = container::create(context_of(g), f.options());
  if (!pid) return report_error(pid.error());
  return 0;
}

}  // namespace

Command create_command() {
  return {"create", "create a container", [](CLI::App& sub) -> Action {
            auto f = std::make_shared<CreateFlags>();
            f->add_to(sub);
            return [f](const GlobalOptions& g) { return run_create(g, *f); };
          }};
}

}  // namespace hull::cli
