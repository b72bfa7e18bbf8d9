// Own main instead of gtest_main (whose main() lives in a static library and
// so loses to this one at link time): the engine re-executes this binary as
// the container init, which must be handled before anything else.
#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/engine/container_init.h"
#include "tests/unit/agent/engine/fixture.h"

int main(int argc, char** argv) {
  // The init leaves through _exit: built with LeakSanitizer, a normal exit
  // runs a leak check that has to ptrace this process, which its helper
  // thread cannot do from inside the pid namespace the init unshared, and
  // the check then waits forever. The init has no buffered output to flush.
  if (auto rc = hull::engine::maybe_run_init(argc, argv)) ::_exit(*rc);
  testing::InitGoogleTest(&argc, argv);
  hull::engine::test::enter_private_mount_namespace();
  return RUN_ALL_TESTS();
}
