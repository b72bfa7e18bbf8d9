#include "agent/engine/pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <array>

#include "agent/engine/str.h"

namespace hull::engine {

Result<PtyPair> open_pty(uint16_t rows, uint16_t cols) {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return fail_errno("process.terminal: posix_openpt");
  if (::grantpt(master.get()) < 0) return fail_errno("process.terminal: grantpt");
  if (::unlockpt(master.get()) < 0) return fail_errno("process.terminal: unlockpt");
  // TIOCGPTPEER opens the slave through the master, never by a path lookup.
  UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) {
    std::array<char, 64> name{};
    if (::ptsname_r(master.get(), name.data(), name.size()) != 0)
      return fail_errno("process.terminal: ptsname");
    slave.reset(::open(name.data(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) return fail_errno(cat("process.terminal: open ", name.data()));
  }
  if (rows || cols) HULL_TRY(resize_pty(master.get(), rows, cols));
  return PtyPair{std::move(master), std::move(slave)};
}

Status resize_pty(int master, uint16_t rows, uint16_t cols) {
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  if (::ioctl(master, TIOCSWINSZ, &ws) < 0) return fail_errno("resize the terminal");
  return {};
}

Status make_controlling_tty(int slave) {
  if (::setsid() < 0 && errno != EPERM) return fail_errno("setsid");
  if (::ioctl(slave, TIOCSCTTY, 0) < 0) return fail_errno("process.terminal: TIOCSCTTY");
  return {};
}

}  // namespace hull::engine
