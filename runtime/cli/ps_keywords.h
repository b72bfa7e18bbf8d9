// ps(1)'s format keywords (procps-ng 4's names, headers, widths and
// alignment) and how hull fills each from a guest process or thread. Internal
// to hull ps (ps_format.h); pure.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "runtime/container/process_list.h"

namespace hull::cli::ps {

// How a column lines up: Right pads on the left; User and Wchan are names
// (left, or right when shown as numbers); Unlimited is text that the last
// column prints whole; Signal is a 16-digit mask.
enum class Align : uint8_t { Left, Right, User, Wchan, Unlimited, Signal };
// Which lines of `ps -m` show the column: the process's, the threads', both,
// or none (ps prints "-").
enum class Show : uint8_t { Process, Thread, Every, Never };

enum class Field : uint16_t {
  Dash,
  Pid,
  Tid,
  Ppid,
  Pgid,
  Sid,
  Tpgid,
  Nlwp,
  Euid,
  Ruid,
  Suid,
  Fsuid,
  Euser,
  Ruser,
  Suser,
  Fsuser,
  Egid,
  Rgid,
  Sgid,
  Fsgid,
  Egroup,
  Rgroup,
  Sgroup,
  Fsgroup,
  Supgid,
  Supgrp,
  Args,
  Comm,
  Fname,
  Exe,
  Stat,
  State,
  Tty,
  Class,
  Sched,
  Rtprio,
  Time,
  Times,
  Bsdtime,
  Etime,
  Etimes,
  Stime,
  Bsdstart,
  Start,
  Lstart,
  C,
  Cp,
  Pcpu,
  Cuc,
  Cuu,
  Pmem,
  Rss,
  Vsz,
  Sz,
  Size,
  MSize,
  Trs,
  Drs,
  Lim,
  Pss,
  Uss,
  Nice,
  Pri,
  Opri,
  Priority,
  PriApi,
  PriBar,
  PriBaz,
  PriFoo,
  Psr,
  SgiP,
  Numa,
  Flags,
  Wchan,
  MinFlt,
  MajFlt,
  SigPending,
  SigPendingThread,
  SigBlocked,
  SigIgnored,
  SigCaught,
  Stackp,
  Esp,
  Eip,
  Label,
  Cgroup,
  NsIpc,
  NsMnt,
  NsNet,
  NsPid,
  NsUser,
  NsUts,
  NsCgroup,
  NsTime,
  ReadBytes,
  WriteBytes,
  CancelledWriteBytes,
  Rchar,
  Wchar,
  Syscr,
  Syscw,
  Oom,
  OomAdj,
  Luid,
  AgId,
  AgNice,
};

struct Keyword {
  std::string_view name;
  std::string_view header;
  uint16_t width;
  Align align;
  Show show;
  Field field;
};

// The keyword `name` (lower case), or nullptr.
const Keyword* find_keyword(std::string_view name);
// Every keyword's name, space separated (for error messages).
std::string keyword_names();

// One line's data: a process, and for the line of one of its threads that
// thread (whose own values replace the process's where ps shows a thread's).
struct Row {
  const container::GuestProcessInfo* p = nullptr;
  const container::GuestThreadInfo* t = nullptr;
  std::string forest;  // the tree prefix before a command column
};

struct RenderOptions {
  std::time_t now = 0;
  bool environment = false;
  bool command_name = false;
  bool full = false;
  bool cumulative = false;
  bool numeric = false;
};

// The column's text for `r` (before any cutting to its width).
std::string render(Field f, const Row& r, const RenderOptions& o);
// Whether the field shows as a number now (User and Wchan alignment).
bool numeric_now(Field f, const RenderOptions& o);
// <0, 0, >0 as `a`'s value of `f` sorts before, with or after `b`'s.
int compare(Field f, const Row& a, const Row& b, const RenderOptions& o);

}  // namespace hull::cli::ps
