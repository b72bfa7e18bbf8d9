#include "agent/engine/pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

#include <array>

#include "agent/engine/fs_util.h"
#include "agent/engine/str.h"

namespace hull::engine {

Result<UniqueFd> setup_container_tty(uint16_t rows, uint16_t cols, bool mount_console) {
  UniqueFd master(::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master && errno == ENOENT) master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return fail_errno("process.terminal: open /dev/pts/ptmx");
  if (::unlockpt(master.get()) < 0) return fail_errno("process.terminal: unlockpt");
  std::array<char, 64> name{};
  if (::ptsname_r(master.get(), name.data(), name.size()) != 0)
    return fail_errno("process.terminal: ptsname");
  // TIOCGPTPEER opens the slave through the master, never by a path lookup.
  UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) slave.reset(::open(name.data(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return fail_errno(cat("process.terminal: open ", name.data()));
  if (rows || cols) HULL_TRY(resize_pty(master.get(), rows, cols));
  if (mount_console) {
    // After pivot_root: "/" is the container's root, and its /proc may be absent.
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return fail_errno("open /");
    HULL_TRY(touch_in_root(root.get(), "/dev/console", 0));
    if (::mount(name.data(), "/dev/console", nullptr, MS_BIND, nullptr) < 0)
      return fail_errno(cat("process.terminal: bind ", name.data(), " on /dev/console"));
  }
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave.get(), fd) < 0) return fail_errno("process.terminal: dup2");
  }
  if (::ioctl(0, TIOCSCTTY, 0) < 0) return fail_errno("process.terminal: TIOCSCTTY");
  return master;
}

Status resize_pty(int master, uint16_t rows, uint16_t cols) {
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  if (::ioctl(master, TIOCSWINSZ, &ws) < 0) return fail_errno("resize the terminal");
  return {};
}

}  // namespace hull::engine
