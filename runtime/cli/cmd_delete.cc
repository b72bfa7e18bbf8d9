// hull delete: removes a stopped (or created) container, with --force also a
// running one; nothing of its VM, mounts or state is left afterwards.
#include "runtime/cli/command.h"

namespace hull::cli {
namespace {

struct DeleteOptions {
  std::string id;
  bool force = false;
};

}  // namespace

Command delete_command() {
  return {"delete", "delete any resources held by the container often used with detached container",
          [](CLI::App& sub) -> Action {
            auto o = std::make_shared<DeleteOptions>();
            sub.add_option("id", o->id, "the container's id")->required();
            sub.add_flag("-f,--force", o->force,
                         "forcibly deletes the container if it is still running (uses SIGKILL)");
            return [o](const GlobalOptions& g) {
              if (auto st = container::remove(context_of(g), o->id, o->force); !st) {
                return report_error(st.error());
              }
              return 0;
            };
          }};
}

}  // namespace hull::cli
