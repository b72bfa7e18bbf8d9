#include "runtime/cli/command.h"

namespace hull::cli {

Command spec_command();
Command features_command();
Command version_command();
Command check_command();

std::vector<Command> all_commands() {
  return {spec_command(), features_command(), version_command(), check_command()};
}

}  // namespace hull::cli
