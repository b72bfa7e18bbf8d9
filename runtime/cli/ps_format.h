// `hull ps ID [ps options]`: runc runs ps(1) on the host and keeps the
// container's lines; a hull container's processes live in its VM, so hull
// reads them from the agent (ListProcesses: each process's and thread's
// /proc values and the container's user names) and lays them out itself, as
// procps-ng's ps(1) does for the same options. Pure: no I/O; the time, the
// caller's uid and the screen are given.
//
// The options are procps's: UNIX ones with "-", BSD ones without, GNU ones
// with "--", parsed as procps parses them (a UNIX parse that fails is tried
// again as BSD, so `-aux` is `aux` and `-e -x` is `e x`). Every selection,
// layout, thread view (-L -T -m m H), tree (-H f --forest), sort (--sort k),
// output modifier and format keyword of ps(1) applies to the container's
// processes. Differences, because the processes are the container's:
//  - with no selection option at all every process of the container is
//    listed (ps would list the caller's own on its terminal: none of them);
//  - the caller's terminal (T, t without a list) is a host one: it selects
//    nothing;
//  - user and group names are the container's (its /etc/passwd, /etc/group);
//  - columns are never cut to the screen unless --cols/--width says so.
// Refused (Errc::Unsupported, naming the option): the options that print
// ps's own information instead of processes (-V V --version --help --info L).
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/container/process_list.h"

namespace hull::cli {

struct PsColumn {
  std::string key;     // format keyword: "pid", "args", "stime", ...
  std::string header;  // "PID"; empty: none
  int width = -1;      // "key:N"; -1: the keyword's own
};

// A list selection (-p, -u, -t, ...); a process matches when any value of
// any list matches it (ps ORs its selections).
struct PsSelector {
  enum class Kind { Pid, Ppid, Pgrp, Session, Tty, Euid, Ruid, Egid, Rgid, Command };
  Kind kind;
  std::vector<std::string> values;  // pids, tty names, ids (names resolved), command names
};

enum class PsThreads { None, Lwp, Spid, WithProcess, AsProcesses };  // -, -L, -T, m/-m, H
enum class PsForest { None, Ascii, Indent };                         // -, f/--forest, -H
enum class PsHeaders { Once, None, EveryPage };

struct PsSortKey {
  std::string key;
  bool descending = false;
};

struct PsQuery {
  std::vector<PsColumn> columns;
  PsHeaders headers = PsHeaders::Once;
  size_t rows = 0;  // --rows: the page length for --headers; 0: the caller's screen
  size_t cols = 0;  // --cols/--width: cut lines to this; 0: never
  int wide = 0;     // -w / w given this often
  // Selection (procps's want_this_proc).
  bool all = false;           // -e -A
  unsigned simple = 0;        // -a -d a x g (procps's simple-selection bits)
  bool own_terminal = false;  // T, t without a list: the caller's terminal
  std::vector<PsSelector> lists;
  bool running_only = false;  // r
  bool negate = false;        // -N --deselect
  // Display.
  PsThreads threads = PsThreads::None;
  PsForest forest = PsForest::None;
  std::vector<PsSortKey> sort;
  bool environment = false;   // e
  bool command_name = false;  // c: args shows the command name
  bool full = false;          // -f -F: comm shows the arguments too
  bool cumulative = false;    // S --cumulative: dead children's CPU time counts
  bool numeric = false;       // n: ids as numbers
};

// The names `-u NAME` and the like resolve with (the container's).
struct PsNames {
  std::map<std::string, uint32_t> users;
  std::map<std::string, uint32_t> groups;
};

// The ps(1) arguments after the container id (none: runc's -ef).
// Errc::Unsupported names an option that shows ps's own information rather
// than processes; Errc::Invalid says what is wrong, in ps's words.
Result<PsQuery> parse_ps_args(const std::vector<std::string>& args, const PsNames& names = {});

// What the caller's side adds: its time, euid (the "own processes" of x and
// the like) and screen (rows for --headers, columns when `cols_known`).
struct PsContext {
  std::time_t now = 0;
  uint32_t euid = 0;
  size_t screen_rows = 24;
  size_t screen_cols = 0;  // 0: not a terminal (lines are not cut)
};

// The table ps(1) would print for the query over `list`.
std::string format_ps(const PsQuery& q, const container::GuestProcessList& list,
                      const PsContext& ctx);
// The same over bare processes, at `now`.
std::string format_ps(const PsQuery& q, const std::vector<container::GuestProcessInfo>& ps,
                      std::time_t now);

}  // namespace hull::cli
