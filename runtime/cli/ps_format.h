// `hull ps ID [ps options]`: runc runs ps(1) on the host and keeps the
// container's lines; a hull container's processes live in its VM, so hull
// formats the agent's process list (ListProcesses) itself, the way ps(1)
// (procps) lays it out for the same options. Pure: no I/O, the time is given.
//
// Options (UNIX with "-", BSD without, GNU with "--"):
//   selection   -e -A -a -d, a x: every process of the container is listed;
//               -p/p/--pid LIST, -C LIST, -u/-U/--user LIST (numeric uids,
//               or root) and r (running) narrow it.
//   format      -f -F -l -j, u, -o/o/--format LIST (repeatable, "key=Header"),
//               --no-headers; none: runc's default, -ef.
//   ignored     -w, w, -y (widths: lines are never cut).
//   refused     with Errc::Unsupported and what to use instead: the thread
//               views (-L -T -m H), the tree (-H f --forest), e, --sort, and
//               the other selections (-g -G -s -t -q --ppid ...).
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/container/guest.h"

namespace hull::cli {

struct PsColumn {
  std::string key;     // canonical keyword: "pid", "args", "stime", ...
  std::string header;  // "PID"; empty: no header for it
};

struct PsQuery {
  std::vector<PsColumn> columns;
  bool headers = true;
  std::vector<int> pids;              // -p: only these (empty: all)
  std::vector<std::string> commands;  // -C: only these names
  std::vector<uint32_t> uids;         // -u/-U: only these
  bool running_only = false;          // r
};

// The ps(1) arguments after the container id. Errc::Unsupported names an
// option that cannot apply to the guest's process list; Errc::Invalid a
// malformed one (an unknown -o keyword, a missing list).
Result<PsQuery> parse_ps_args(const std::vector<std::string>& args);

// The table ps(1) would print for `ps` (after the query's selection); `now`
// is the host's time (start times are now - elapsed).
std::string format_ps(const PsQuery& q, const std::vector<container::GuestProcessInfo>& ps,
                      std::time_t now);

}  // namespace hull::cli
