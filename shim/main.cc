// containerd-shim-hull-v2: the containerd shim v2 task service over ttrpc.
// Only `--version`/`-v` works so far; the task service comes with the shim issue.
#include <cstdio>
#include <cstring>

#include "common/version.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-v") == 0 || std::strcmp(argv[i], "--version") == 0) {
      std::printf("containerd-shim-hull-v2:\n  Version:  %s\n  Revision: %s\n", hull::kVersion,
                  hull::kGitCommit);
      return 0;
    }
  }
  std::fprintf(stderr,
               "containerd-shim-hull-v2: the shim task service is not available in this build; "
               "use the hull CLI (runc mode) instead\n");
  return 1;
}
