// Terminal mode, as runc does it: the container init opens the pty on the
// container's own devpts instance (/dev/pts/ptmx in its mount namespace, so
// `tty` says /dev/pts/N), makes the slave its stdin/stdout/stderr and
// controlling terminal, binds it on /dev/console (create only) and sends the
// master to the engine (sync.h, Console), which hands it to the caller.
#pragma once

#include <cstdint>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::engine {

// In the container init, in the container's mount namespace (after pivot):
// opens /dev/pts/ptmx (else /dev/ptmx), unlocks it, puts the slave on fds
// 0-2 as the controlling tty (the caller is already a session leader) and,
// with `mount_console`, binds it on /dev/console. rows/cols of 0 leave the
// size alone. Returns the master.
Result<UniqueFd> setup_container_tty(uint16_t rows, uint16_t cols, bool mount_console);

// TIOCSWINSZ on the master.
Status resize_pty(int master, uint16_t rows, uint16_t cols);

}  // namespace hull::engine
