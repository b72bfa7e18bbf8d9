// pidfd_open(2), pidfd_send_signal(2) and pidfd_getfd(2) from glibc. Include
// this, not <sys/pidfd.h>: glibc 2.36 (Debian 12) declares them without
// extern "C", so a C++ file including it directly fails to link.
#pragma once

extern "C" {
#include <sys/pidfd.h>
}
