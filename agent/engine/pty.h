// Terminal mode: the engine allocates a pty pair on the agent's /dev/ptmx; the
// slave becomes stdin/stdout/stderr and the controlling terminal of the
// container process (and /dev/console in the container, like runc); the
// master goes back to the caller.
#pragma once

#include <cstdint>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::engine {

struct PtyPair {
  UniqueFd master;
  UniqueFd slave;
};

// posix_openpt(O_RDWR|O_NOCTTY|O_CLOEXEC), grant, unlock, open the slave.
// rows/cols of 0 leave the size alone.
Result<PtyPair> open_pty(uint16_t rows, uint16_t cols);

// TIOCSWINSZ on the master.
Status resize_pty(int master, uint16_t rows, uint16_t cols);

// In the container init: new session, fd `slave` as the controlling tty.
Status make_controlling_tty(int slave);

}  // namespace hull::engine
