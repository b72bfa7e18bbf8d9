// hull: the runc-compatible command line. Parses runc's global flags, installs
// the log sink, and hands over to one command from the table in commands.cc.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/log.h"
#include "common/unique_fd.h"
#include "common/version.h"
#include "runtime/cli/command.h"
#include "runtime/cli/help.h"

namespace hull::cli {
namespace {

std::string version_lines() {
  return std::string(kVersion) + "\ncommit: " + kGitCommit + "\nspec: " + kOciSpecVersion + "\n";
}

std::string version_text() {
  return "hull version " + version_lines();
}

int no_help_topic(const std::string& topic) {
  std::fprintf(stderr, "No help topic for '%s'\n", topic.c_str());
  return 1;
}

bool is_command(const CLI::App& app, const std::string& word) {
  return !app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(word); }).empty();
}

// runc (urfave/cli) wording for mistakes on the command line.
int usage_error(const CLI::Error& e, const CLI::App& app, const std::string& first_command) {
  std::string msg = e.what();
  bool unknown_command =
      dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr && !first_command.empty() &&
      app.get_subcommands([&](const CLI::App* sub) { return sub->get_name() == first_command; })
          .empty();
  if (unknown_command) {
    no_help_topic(first_command);
  } else {
    std::fprintf(stderr, "Incorrect Usage: %s\n\nRun 'hull --help' for usage.\n", msg.c_str());
  }
  return 1;
}

// The first word that is not a flag: the command the user meant.
std::string first_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] != '-') return argv[i];
    // flags that take a separate value
    for (const char* f : {"--root", "--log", "--log-format", "--rootless", "--criu"}) {
      if (std::strcmp(argv[i], f) == 0) ++i;
    }
  }
  return "";
}

UniqueFd g_log_file;  // owned here for the process lifetime: the sink points at it

Status install_log(const GlobalOptions& g) {
  log::Sink sink;
  sink.min_level = g.debug ? log::Level::Debug : log::Level::Warn;
  if (g.log_format == "json") {
    sink.format = log::Format::Json;
  } else if (g.log_format != "text") {
    return fail(Errc::Invalid, "invalid log format \"" + g.log_format + "\": must be text or json");
  }
  if (!g.log.empty()) {
    g_log_file.reset(::open(g.log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!g_log_file) return fail_errno("opening log file " + g.log);
    sink.fd = g_log_file.get();
    sink.min_level = g.debug ? log::Level::Debug : log::Level::Info;
  }
  log::install(sink);
  return {};
}

int run(int argc, char** argv) {
  CLI::App app{"a runc-compatible OCI runtime that runs every container in its own lightweight VM",
               "hull"};
  app.formatter(runc_help_formatter(version_lines()));
  app.require_subcommand(0, 1);
  app.set_version_flag("-v,--version", version_text());
  GlobalOptions g;
  app.add_option("--root", g.root, "root directory for storage of container state")
      ->capture_default_str();
  app.add_option("--log", g.log, "set the log file to write hull logs to (default is stderr)");
  app.add_option("--log-format", g.log_format, "set the log format ('text' or 'json')")
      ->capture_default_str();
  app.add_flag("--debug", g.debug, "enable debug logging");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup,
               "linux.cgroupsPath is slice:prefix:name (a plain host cgroup directory)");
  app.add_option("--rootless", g.rootless, "accepted for runc compatibility")
      ->capture_default_str();
  app.add_option("--criu", g.criu, "accepted for runc compatibility (checkpoint is unsupported)");

  Action action;
  for (auto& cmd : all_commands()) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.summary);
    auto make = cmd.setup;
    Action built = make(*sub);
    sub->callback([&action, built] { action = built; });
  }
  // `hull help [command]`, `hull h [command]`: help for the program or one command.
  auto topic = std::make_shared<std::string>();
  CLI::App* help = app.add_subcommand("help", "shows a list of commands or help for one command");
  help->alias("h");
  help->add_option("command", *topic, "the command to describe");
  help->callback([&app, &action, topic] {
    action = [&app, topic](const GlobalOptions&) {
      const CLI::App* about = &app;
      if (!topic->empty()) {
        const CLI::App& program = app;
        auto subs = program.get_subcommands(
            [&](const CLI::App* s) { return s->check_name(*topic) && !s->get_group().empty(); });
        if (subs.empty()) return no_help_topic(*topic);
        about = subs.front();
      }
      std::cout << app.get_formatter()->make_help(about, "", CLI::AppFormatMode::Normal);
      return 0;
    };
  });

  // runc answers `hull foo -h` (and `hull foo`) for an unknown command foo
  // with an error, not with the program's help.
  if (std::string word = first_word(argc, argv); !word.empty() && !is_command(app, word)) {
    return no_help_topic(word);
  }

  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    end_exec_flags(args);
    end_ps_flags(args);
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e, app, first_word(argc, argv));
  }
  if (auto st = install_log(g); !st) {
    // No log sink yet: the plain message.
    std::fprintf(stderr, "%s\n", st.error().what().c_str());
    return 1;
  }
  if (!action) {
    std::cout << app.help();  // `hull` alone, as runc
    return 0;
  }
  return action(g);
}

}  // namespace
}  // namespace hull::cli

int main(int argc, char** argv) {
  try {
    return hull::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hull: internal error: %s\n", e.what());
    return 1;
  }
}
