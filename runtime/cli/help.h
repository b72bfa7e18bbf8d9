// `hull --help`, `hull help [command]`, `hull <command> --help`: runc's help
// layout (urfave/cli's), which scripts and test harnesses grep:
//
//   NAME:
//      hull kill - <summary>
//
//   USAGE:
//      hull kill [command options] <container-id> [signal]
//
//   OPTIONS:
//      --all, -a  <description>
//      --help, -h  show help
//
// and for the program NAME, USAGE, VERSION, COMMANDS ("help, h" last) and
// GLOBAL OPTIONS. Columns are padded to the widest entry plus two spaces.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

namespace hull::cli {

// The formatter for the program's App; subcommands added after it is set
// inherit it. `version` is the text of `hull --version`.
std::shared_ptr<CLI::FormatterBase> runc_help_formatter(std::string version);

}  // namespace hull::cli
