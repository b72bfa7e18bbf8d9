// The `hull` command table. Each command lives in cmd_<name>.cc and exposes a
// factory returning a Command; main.cc lists them in one table (commands.cc).
//
// A command adds its flags to its CLI11 subcommand inside `setup`, keeping the
// option values in a struct it owns, and returns the action to run once
// parsing succeeded. The action returns the process exit code.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "runtime/container/container.h"

namespace hull::cli {

// runc's global flags.
struct GlobalOptions {
  std::string root = "/run/hull";
  std::string log;                  // file for log lines (runc: --log)
  std::string log_format = "text";  // text or json
  bool debug = false;
  bool systemd_cgroup = false;    // cgroupsPath is slice:prefix:name (runtime/hostcgroup/paths.h)
  std::string rootless = "auto";  // accepted for compatibility
  std::string criu;               // accepted for compatibility (checkpointing is unsupported)
};

using Action = std::function<int(const GlobalOptions&)>;

struct Command {
  std::string name;
  std::string summary;
  std::function<Action(CLI::App& sub)> setup;
};

// Every command, in the order `hull --help` lists them.
std::vector<Command> all_commands();

// runc (urfave/cli) stops parsing a command's flags at its first argument,
// the container id: `exec c1 sh -c x` runs `sh -c x`, `ps c1 -ef` hands -ef
// to ps(1). Inserts "--" after the id in argv when `command` is the command;
// `value_flags` are its flags that take a separate value.
void end_flags_at_id(std::vector<std::string>& args, std::string_view command,
                     const std::vector<std::string>& value_flags);
void end_exec_flags(std::vector<std::string>& args);
void end_ps_flags(std::vector<std::string>& args);

// Reports an error the way runc does: a log line at error level (to --log, in
// its format) and the plain message on stderr. Returns the exit code (1).
int report_error(const Error& err);

// The lifecycle library's context from the global flags.
container::Context context_of(const GlobalOptions& g);

// Where hull's own helper binaries (hull-vsock) live: the directory of /proc/self/exe.
std::string helper_dir();

}  // namespace hull::cli
