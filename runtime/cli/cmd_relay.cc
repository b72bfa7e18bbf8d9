// hull __relay: a monitor's relay (runtime/monitor/relay_process.h).
// Hidden; started by the monitor only, jailed, with its descriptors laid out.
#include "runtime/cli/command.h"
#include "runtime/monitor/relay_process.h"

namespace hull::cli {

Command relay_command() {
  return {container::kRelayCommand, "", [](CLI::App& sub) -> Action {
            sub.group("");  // hidden from --help
            auto a = std::make_shared<container::RelayArgs>();
            sub.add_option("id", a->id)->required();
            sub.add_option("--exec-id", a->exec_id);
            sub.add_flag("--terminal", a->terminal);
            sub.add_flag("--destroy-sandbox", a->destroy_sandbox);
            return [a](const GlobalOptions& g) {
              a->debug = g.debug;
              a->log_format = g.log_format;
              return container::relay_main(*a);
            };
          }};
}

}  // namespace hull::cli
