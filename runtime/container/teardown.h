// The one order in which a container's host side is taken apart. create's
// failure path and delete both run tear_down(); the order has been fixed over
// and over when the two had copies of it, so it is written here once:
//
//   1. lift the host cgroup's CPU quota: the VM's teardown is hull's work, and
//      at a container's 0.1 CPU it takes seconds
//   2. end the monitor and with it the VM (`end_monitor`, the caller's way:
//      create closes its sync socket and reaps its child; delete has the agent
//      kill the container's processes, then waits for the monitor)
//   3. remove the host cgroup, killing what is left in it (the VM's processes)
//   4. remove the leftovers: the VM's processes by recorded pid and start
//      time, the network wiring, the sandbox directory and its mounts
//
// Steps 1 and 2 only when a monitor runs (`end_monitor` given). Steps 3 and 4
// both run; the first error is returned and `r.host_cgroup` then records what
// is left of the cgroup, so that a kept state lets `delete -f` try again. The
// state itself is the caller's to remove (delete runs poststop hooks first).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "runtime/container/record.h"

namespace hull::container {

// Names each step as it starts ("lift-cpu-quota", "end-monitor",
// "remove-cgroup", "remove-leftovers"); tests watch the order through it.
using TeardownTrace = std::function<void(std::string_view step)>;

Status tear_down(const std::string& root, Record& r, const std::function<void()>& end_monitor,
                 const TeardownTrace& trace = {});

}  // namespace hull::container
