// What a container leaves on the host when its monitor is gone, and how
// delete removes it: its VM's processes, network wiring, sandbox directory
// and host cgroup's CPU quota (runtime/container/teardown.cc calls these).
#pragma once

#include <string>

#include "common/error.h"
#include "runtime/container/record.h"

namespace hull::container {

// Undoes what a dead monitor left in a namespace it joined by path.
Status unwire_leftovers(const Record& r);

// Kills a dead monitor's VM processes and removes its sandbox directory.
Status remove_leftovers(const std::string& root, const Record& r);

// Lifts the host cgroup's CPU quota so the teardown runs at full speed.
void unlimit_host_cgroup(const Record& r);

}  // namespace hull::container
