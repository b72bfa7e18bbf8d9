// Brings the loopback interface up with ioctl(SIOCSIFFLAGS), no external tools.
#pragma once

#include "common/error.h"

namespace hull::agent::init {

Status bring_up_loopback();

}  // namespace hull::agent::init
