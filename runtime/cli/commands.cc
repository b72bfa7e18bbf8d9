#include "runtime/cli/command.h"

namespace hull::cli {

Command spec_command();
Command features_command();
Command version_command();
Command check_command();
Command create_command();
Command start_command();
Command run_command();
Command state_command();
Command kill_command();
Command delete_command();
Command exec_command();
Command ps_command();
Command list_command();
Command pause_command();
Command resume_command();
Command monitor_command();
Command events_command();
Command update_command();

std::vector<Command> all_commands() {
  return {create_command(), delete_command(), exec_command(),     kill_command(),
          list_command(),   pause_command(),  ps_command(),       resume_command(),
          run_command(),    spec_command(),   start_command(),    state_command(),
          update_command(), events_command(), features_command(), version_command(),
          check_command(),  monitor_command()};
}

}  // namespace hull::cli
