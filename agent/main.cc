// hull-agent: PID 1 of the guest. The init part comes with the guest-image
// issue, the RPC service with the sandbox issue.
#include <cstdio>

#include "common/version.h"

int main() {
  std::printf("hull-agent %s (%s)\n", hull::kVersion, hull::kGitCommit);
  return 0;
}
