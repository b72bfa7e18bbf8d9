// runc's "stats" event (`runc events --stats`: libcontainer's types.Event with
// types.Stats) from the counters of the container's cgroup v2 in its guest,
// mapped the way runc maps a cgroup v2 host's: CPU times in nanoseconds,
// memory.stat as "raw" ("cache" its "file"), swap usage with memory added,
// failcnt the "max" count of memory.events, io.stat per device in
// blkio.ioServiceBytesRecursive / ioServicedRecursive. Keys come in runc's
// order and zero values it omits (Go's omitempty) are left out, so a line
// compares equal to runc's. Pure. `st` as the agent's StatsContainer gave it,
// checked (runtime/sandbox/agent_reply.h: parse_stats).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "agent.pb.h"

namespace hull::container {

nlohmann::ordered_json stats_event_json(const std::string& id, const agent::CgroupStats& st);

}  // namespace hull::container
