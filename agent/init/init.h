// hull-agent's init part: everything PID 1 does from the first instruction to "ready".
//
//   mount proc, sys, dev, devpts, shm, cgroup2, run -> console on fds 0-2 -> settings from
//   /proc/cmdline -> all cgroup controllers for children -> lo up -> reaper -> probe and log
//   kernel features -> debug shell (hull.debug_shell=1) -> "hull-agent ready <s>" -> main loop
//
// The RPC service is added to the loop by the sandbox issue; until then the loop only reaps.
#pragma once

#include <time.h>

#include <string>

#include "agent/init/cmdline.h"
#include "agent/init/reaper.h"
#include "common/error.h"
#include "common/event_loop.h"

namespace hull::agent::init {

// "hull-agent ready 0.412": seconds since boot with 3 decimals (truncated). Pure.
std::string ready_line(const timespec& since_boot);

// What the later stages get from init.
struct Guest {
  AgentConfig config;
  Reaper reaper;
  EventLoop loop;
};

// Brings the guest up to the point where it can serve. Must run as PID 1.
Result<Guest> bring_up();

// Starts /bin/sh on the console, watched by `reaper` (hull.debug_shell=1; the shell exists
// only in a `guest-image/build.sh --debug` initrd, else the error says so).
Status start_debug_shell(Reaper& reaper);

// Writes ready_line(CLOCK_BOOTTIME) to the console (stdout): the line hosts and tests wait for.
void announce_ready();

// Runs PID 1 to its end: bring_up, the ready line, the main loop. Returns why the VM should
// power off (a request such as hull.test=poweroff), or the fatal error.
Result<std::string> run_init();

}  // namespace hull::agent::init
