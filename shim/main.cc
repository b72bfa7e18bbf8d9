// containerd-shim-hull-v2: containerd's shim v2 for hull (docs/shim.md).
// `start` and `delete` are containerd's calls; with no action it is the
// daemon `start` re-executes. Nothing thrown leaves main.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "common/version.h"
#include "shim/commands.h"

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto flags = hull::shim::parse_flags(args);
    if (!flags) {
      std::fprintf(stderr, "%s: %s\n", hull::shim::kBinaryName, flags.error().what().c_str());
      return 2;
    }
    if (flags->version) {
      std::printf("%s:\n  Version:  %s\n  Revision: %s\n", hull::shim::kBinaryName, hull::kVersion,
                  hull::kGitCommit);
      return 0;
    }
    if (flags->action == "start") return hull::shim::cmd_start(*flags);
    if (flags->action == "delete") return hull::shim::cmd_delete(*flags);
    return hull::shim::run_daemon(*flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", hull::shim::kBinaryName, e.what());
    return 1;
  }
}
