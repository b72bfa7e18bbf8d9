// hull check: one line per host requirement (OK, WARN or FAIL, with the reason
// and what to do). Exits 1 when a hard requirement fails.
#include <cstdio>

#include "runtime/cli/command.h"
#include "runtime/config/config.h"
#include "runtime/container/host_check.h"

namespace hull::cli {
namespace {

int run_check() {
  auto cfg = config::load();
  if (!cfg) {
    std::printf(
        "FAIL  %-11s %s (to fix: correct the file; keys are listed in "
        "docs/configuration.md)\n",
        "config", cfg.error().what().c_str());
    return 1;
  }
  std::printf("OK    %-11s %s\n", "config", cfg->source.c_str());
  auto report = container::check_host(*cfg, helper_dir());
  for (const auto& l : report.lines) std::printf("%s\n", l.c_str());
  bool failed = report.failed;
  std::printf("%s\n", failed ? "hull check: some hard requirements failed; see FAIL lines above"
                             : "hull check: this host can run hull sandboxes");
  return failed ? 1 : 0;
}

}  // namespace

Command check_command() {
  return {"check", "check that this host can run hull sandboxes",
          [](CLI::App&) -> Action { return [](const GlobalOptions&) { return run_check(); }; }};
}

}  // namespace hull::cli
