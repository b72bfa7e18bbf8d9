#include <algorithm>

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
Command relay_command();
Command events_command();
Command update_command();

std::vector<Command> all_commands() {
  return {create_command(), delete_command(),  exec_command(),     kill_command(),
          list_command(),   pause_command(),   ps_command(),       resume_command(),
          run_command(),    spec_command(),    start_command(),    state_command(),
          update_command(), events_command(),  features_command(), version_command(),
          check_command(),  monitor_command(), relay_command()};
}

void end_flags_at_id(std::vector<std::string>& args, std::string_view command,
                     const std::vector<std::string>& value_flags) {
  // The command: the first word that is neither a global flag nor its value.
  size_t i = 0;
  while (i < args.size() && !args[i].empty() && args[i][0] == '-') {
    for (const char* f : {"--root", "--log", "--log-format", "--rootless", "--criu"}) {
      if (args[i] == f) {
        ++i;
        break;
      }
    }
    ++i;
  }
  if (i >= args.size() || args[i] != command) return;
  for (++i; i < args.size(); ++i) {
    if (args[i] == "--") return;
    if (args[i].empty() || args[i][0] != '-') {
      if (i + 1 < args.size() && args[i + 1] != "--") args.insert(args.begin() + i + 1, "--");
      return;
    }
    if (std::find(value_flags.begin(), value_flags.end(), args[i]) != value_flags.end()) ++i;
  }
}

}  // namespace hull::cli
