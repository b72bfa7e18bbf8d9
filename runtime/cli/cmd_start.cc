// hull start: runs the user's process of a created container.
#include "runtime/cli/command.h"

namespace hull::cli {

Command start_command() {
  return {"start", "executes the user defined process in a created container",
          [](CLI::App& sub) -> Action {
            auto id = std::make_shared<std::string>();
            sub.add_option("id", *id, "the container's id")->required();
            return [id](const GlobalOptions& g) {
              if (auto st = container::start(context_of(g), *id); !st) {
                return report_error(st.error());
              }
              return 0;
            };
          }};
}

}  // namespace hull::cli
