// hull state: runc's state JSON (indented, no trailing newline), with the
// status derived from the monitor process, not just the cached file.
#include <cstdio>

#include "runtime/cli/command.h"

namespace hull::cli {

Command state_command() {
  return {"state", "output the state of a container", [](CLI::App& sub) -> Action {
            auto id = std::make_shared<std::string>();
            sub.add_option("id", *id, "the container's id")->required();
            return [id](const GlobalOptions& g) {
              auto s = container::state(context_of(g), *id);
              if (!s) return report_error(s.error());
              std::string out = oci::state_output_json(*s).dump(2);
              std::fwrite(out.data(), 1, out.size(), stdout);
              return 0;
            };
          }};
}

}  // namespace hull::cli
