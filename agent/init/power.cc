#include "agent/init/power.h"

#include <sys/reboot.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/log.h"

namespace hull::agent::init {

void power_off(std::string_view reason) {
  log::info("powering off: " + std::string(reason));
  ::sync();
  ::reboot(RB_POWER_OFF);
  log::error(std::string("reboot(RB_POWER_OFF) failed: ") + std::strerror(errno) +
             "; exiting so the guest kernel panics and resets");
  ::_exit(1);
}

void power_off_fatal(std::string_view why) {
  log::error("fatal: " + std::string(why));
  power_off("fatal error");
}

}  // namespace hull::agent::init
