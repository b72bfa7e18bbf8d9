// hull-agent: PID 1 of the guest. The init part lives in agent/init (see init.h); the RPC
// service comes with the sandbox issue. PID 1 must never exit (the guest kernel would panic):
// every end, requested or fatal, powers the VM off.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "agent/init/init.h"
#include "agent/init/power.h"
#include "common/version.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("hull-agent %s (%s)\n", hull::kVersion, hull::kGitCommit);
    return 0;
  }
  if (::getpid() != 1) {
    std::fprintf(stderr,
                 "hull-agent: refusing to start: this is pid %d, not 1. hull-agent is the init "
                 "of a hull guest VM (it mounts /proc, /sys, /dev and powers the machine off); "
                 "it is not meant to run on a host.\n",
                 static_cast<int>(::getpid()));
    return 1;
  }
  namespace init = hull::agent::init;
  try {
    auto reason = init::run_init();
    if (!reason) init::power_off_fatal(reason.error().what());
    init::power_off(*reason);
  } catch (const std::exception& e) {
    init::power_off_fatal(std::string("uncaught exception: ") + e.what());
  } catch (...) {
    init::power_off_fatal("uncaught exception of unknown type");
  }
}
