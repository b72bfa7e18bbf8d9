// hull version: hull's version, commit, the OCI spec version it implements,
// and the versions of the peers it drives.
#include <seccomp.h>

#include <chrono>
#include <cstdio>

#include "common/process.h"
#include "common/version.h"
#include "runtime/cli/command.h"
#include "runtime/config/config.h"

namespace hull::cli {
namespace {

int run_version() {
  std::printf("hull version %s\ncommit: %s\nspec: %s\n", kVersion, kGitCommit, kOciSpecVersion);
  const scmp_version* v = seccomp_version();
  if (v) std::printf("libseccomp: %u.%u.%u\n", v->major, v->minor, v->micro);
  auto cfg = config::load();
  if (!cfg) return 0;  // the version is printed; `hull check` reports config problems
  auto q = run_capture({cfg->hypervisor.path, "--version"}, std::chrono::seconds(10));
  if (q && q->exit_status == 0) {
    std::printf("qemu: %s\n", q->output.substr(0, q->output.find('\n')).c_str());
  }
  return 0;
}

}  // namespace

Command version_command() {
  return {"version", "print hull's version and the versions of the parts it drives",
          [](CLI::App&) -> Action { return [](const GlobalOptions&) { return run_version(); }; }};
}

}  // namespace hull::cli
