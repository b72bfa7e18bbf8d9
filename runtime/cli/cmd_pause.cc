// hull pause / hull resume: freeze and thaw every process of the container
// (cgroup v2 freezer in the guest; the VM itself keeps running).
#include "runtime/cli/command.h"

namespace hull::cli {
namespace {

Command freezer_command(std::string name, std::string summary, bool pause) {
  return {std::move(name), std::move(summary), [pause](CLI::App& sub) -> Action {
            auto id = std::make_shared<std::string>();
            sub.add_option("id", *id, "the container's id")->required();
            return [id, pause](const GlobalOptions& g) {
              auto ctx = context_of(g);
              auto st = pause ? container::pause(ctx, *id) : container::resume(ctx, *id);
              if (!st) return report_error(st.error());
              return 0;
            };
          }};
}

}  // namespace

Command pause_command() {
  return freezer_command("pause", "pause suspends all processes inside the container", true);
}

Command resume_command() {
  return freezer_command("resume", "resumes all processes that have been previously paused", false);
}

}  // namespace hull::cli
