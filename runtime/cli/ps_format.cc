// format_ps: which processes and threads ps(1) shows for a query, in which
// order and tree, and its column layout (ps_format.h).
#include "runtime/cli/ps_format.h"

#include <algorithm>
#include <numeric>

#include "runtime/cli/ps_keywords.h"

namespace hull::cli {
namespace {

using container::GuestProcessInfo;
using container::GuestProcessList;
using container::GuestThreadInfo;

// How deep a tree indents before it stops (as ps does, past its buffer).
constexpr size_t kMaxForestLevel = 1024;

// A line of `ps -m` shows either the process's columns or a thread's.
enum class LineKind { Normal, ProcessOfM, ThreadOfM };

struct Line {
  ps::Row row;
  LineKind kind = LineKind::Normal;
};

std::string tty_of(const GuestProcessInfo& p) {
  return ps::render(ps::Field::Tty, ps::Row{&p, nullptr, {}}, ps::RenderOptions{});
}

bool tty_matches(const std::string& want, const GuestProcessInfo& p) {
  std::string have = tty_of(p);
  if (want == "-" || want == "?") return p.tty == 0;
  if (p.tty == 0) return false;
  if (want == "co") return have == "console";
  return have == want || have == "pts/" + want || have == "tty" + want;
}

bool listed(const PsSelector& sel, const GuestProcessInfo& p) {
  using K = PsSelector::Kind;
  for (const auto& v : sel.values) {
    switch (sel.kind) {
      case K::Pid:
        if (v == std::to_string(p.pid)) return true;
        break;
      case K::Ppid:
        if (v == std::to_string(p.ppid)) return true;
        break;
      case K::Pgrp:
        if (v == std::to_string(p.pgid)) return true;
        break;
      case K::Session:
        if (v == std::to_string(p.sid)) return true;
        break;
      case K::Tty:
        if (tty_matches(v, p)) return true;
        break;
      case K::Euid:
        if (v == std::to_string(p.euid)) return true;
        break;
      case K::Ruid:
        if (v == std::to_string(p.uid)) return true;
        break;
      case K::Egid:
        if (v == std::to_string(p.egid)) return true;
        break;
      case K::Rgid:
        if (v == std::to_string(p.gid)) return true;
        break;
      case K::Command:  // the kernel keeps 15 bytes of a name
        if (v.substr(0, 15) == p.comm) return true;
        break;
    }
  }
  return false;
}

// procps's want_this_proc.
bool wanted(const PsQuery& q, const GuestProcessInfo& p, uint32_t euid) {
  bool accepted = q.all;
  if (!accepted && q.simple != 0) {
    // (own euid, session leader, no tty, on the caller's terminal): no
    // process of a VM is on a host terminal.
    unsigned index =
        (p.euid == euid ? 1u : 0u) | (p.sid == p.pid ? 2u : 0u) | (p.tty == 0 ? 4u : 0u);
    accepted = (q.simple >> index) & 1u;
  }
  if (!accepted) {
    accepted = std::any_of(q.lists.begin(), q.lists.end(),
                           [&](const PsSelector& s) { return listed(s, p); });
  }
  if (q.running_only && p.state != 'R' && p.state != 'D') accepted = false;
  return q.negate ? !accepted : accepted;
}

std::string forest_text(const std::string& prefix, PsForest kind) {
  std::string out;
  for (char c : prefix) {
    if (kind == PsForest::Indent) {
      out += "  ";
    } else if (c == ' ') {
      out += "    ";
    } else if (c == '|') {
      out += " |  ";
    } else {
      out += " \\_ ";  // 'L' (last child) and '+' (more follow)
    }
  }
  return out;
}

// procps's show_forest over `v` (sorted by ppid): roots (whose parent is not
// listed) from the last one back, each with its descendants, children in
// their order in `v`. Walked with an explicit stack: the depth is the guest's.
std::vector<Line> forest(const std::vector<const GuestProcessInfo*>& v, PsForest kind) {
  const size_t n = v.size();
  std::vector<Line> out;
  std::string prefix;
  struct Frame {
    size_t self;
    size_t level;
    bool sibling;
    size_t next = 0;  // the next child's index; n: no more
    bool started = false;
  };
  auto first_child = [&](size_t self) {
    for (size_t i = 0; i < n; ++i) {
      if (v[i]->ppid == v[self]->pid) return i;
    }
    return n;
  };
  for (size_t r = n; r-- > 0;) {
    bool root = std::none_of(v.begin(), v.end(),
                             [&](const GuestProcessInfo* p) { return p->pid == v[r]->ppid; });
    if (!root) continue;
    std::vector<Frame> stack{{r, 0, false}};
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (!f.started) {
        f.started = true;
        prefix.resize(f.level, ' ');
        if (f.level) prefix[f.level - 1] = f.sibling ? '+' : 'L';
        out.push_back(Line{ps::Row{v[f.self], nullptr, forest_text(prefix, kind)}});
        f.next = first_child(f.self);
        if (f.level) prefix[f.level - 1] = f.sibling ? '|' : ' ';
        prefix.resize(f.level);
      }
      if (f.next < n) {
        size_t child = f.next;
        bool more = child + 1 < n && v[child + 1]->ppid == v[f.self]->pid;
        f.next = more ? child + 1 : n;
        size_t level = std::min(f.level + 1, kMaxForestLevel);
        stack.push_back(Frame{child, level, more});  // invalidates f
      } else {
        prefix.resize(f.level);
        stack.pop_back();
      }
    }
  }
  return out;
}

bool pid_column(ps::Field f) {
  using F = ps::Field;
  return f == F::Pid || f == F::Tid || f == F::Ppid || f == F::Pgid || f == F::Sid || f == F::Tpgid;
}

struct Column {
  const ps::Keyword* kw;
  std::string header;
  size_t width;
};

// procps's show_one_proc: each column at its place, a right-aligned one
// taking back what an overlong one before it used, the last one as long as
// the line may be (`cols`, 0: no limit).
std::string layout(const std::vector<Column>& cols, const std::vector<std::string>& cells,
                   const std::vector<bool>& numeric, bool header, size_t line_cols) {
  std::string line;
  size_t correct = 0, actual = 0;
  bool dospace = false;
  for (size_t i = 0; i < cols.size(); ++i) {
    const Column& c = cols[i];
    bool last = i + 1 == cols.size();
    std::string text = cells[i];
    ps::Align a = c.kw->align;
    if (!header && !last) {  // what ps cuts to its column
      if (a == ps::Align::User && !numeric[i] && text.size() > c.width) {
        text = text.substr(0, c.width - 1) + "+";
      } else if ((a == ps::Align::Unlimited || a == ps::Align::Wchan) && text.size() > c.width) {
        text.resize(c.width);
      }
    }
    size_t leftpad = 0;
    bool right = a == ps::Align::Right || a == ps::Align::Signal ||
                 ((a == ps::Align::User || a == ps::Align::Wchan) && numeric[i]);
    if (right && text.size() < c.width) leftpad = c.width - text.size();
    int64_t space = static_cast<int64_t>(correct) - static_cast<int64_t>(actual) +
                    static_cast<int64_t>(leftpad);
    if (space < 1) space = dospace ? 1 : 0;
    line.append(static_cast<size_t>(space), ' ');
    if (last) {
      if (line_cols > 0 && !header) {
        size_t room = line_cols > line.size() ? line_cols - line.size() : 1;
        if (text.size() > room) text.resize(room);
      }
      line += text;
      break;
    }
    line += text;
    actual += static_cast<size_t>(space) + text.size();
    correct += c.width + 1;
    dospace = true;
  }
  return line;
}

}  // namespace

std::string format_ps(const PsQuery& q, const GuestProcessList& list, const PsContext& ctx) {
  ps::RenderOptions o{ctx.now, q.environment, q.command_name, q.full, q.cumulative, q.numeric};

  // The processes in /proc's order (by pid), those the query selects.
  std::vector<const GuestProcessInfo*> procs;
  for (const auto& p : list.processes) procs.push_back(&p);
  std::stable_sort(
      procs.begin(), procs.end(),
      [](const GuestProcessInfo* a, const GuestProcessInfo* b) { return a->pid < b->pid; });
  std::erase_if(procs, [&](const GuestProcessInfo* p) { return !wanted(q, *p, ctx.euid); });

  // --sort (each key in turn decides a tie of those before it); a tree
  // orders siblings by start time unless sorted, and then by parent.
  std::vector<std::pair<ps::Field, bool>> keys;
  for (const auto& k : q.sort) keys.emplace_back(ps::find_keyword(k.key)->field, k.descending);
  if (q.forest != PsForest::None && keys.empty()) keys.emplace_back(ps::Field::Stime, false);
  if (!keys.empty()) {
    std::stable_sort(
        procs.begin(), procs.end(), [&](const GuestProcessInfo* a, const GuestProcessInfo* b) {
          for (const auto& [f, desc] : keys) {
            int c = ps::compare(f, ps::Row{a, nullptr, {}}, ps::Row{b, nullptr, {}}, o);
            if (c != 0) return desc ? c > 0 : c < 0;
          }
          return false;
        });
  }

  std::vector<Line> lines;
  if (q.forest != PsForest::None) {
    std::stable_sort(
        procs.begin(), procs.end(),
        [](const GuestProcessInfo* a, const GuestProcessInfo* b) { return a->ppid < b->ppid; });
    lines = forest(procs, q.forest);
  } else {
    for (const GuestProcessInfo* p : procs) {
      switch (q.threads) {
        case PsThreads::None:
          lines.push_back(Line{ps::Row{p, nullptr, {}}});
          break;
        case PsThreads::WithProcess:
          lines.push_back(Line{ps::Row{p, nullptr, {}}, LineKind::ProcessOfM});
          for (const auto& t : p->tasks) {
            lines.push_back(Line{ps::Row{p, &t, {}}, LineKind::ThreadOfM});
          }
          break;
        default:  // one line per thread (a zombie has none: its own line)
          if (p->tasks.empty()) lines.push_back(Line{ps::Row{p, nullptr, {}}});
          for (const auto& t : p->tasks) lines.push_back(Line{ps::Row{p, &t, {}}});
          break;
      }
    }
  }

  // The columns: each keyword's width, a pid column's wide enough for the
  // largest id (ps sizes them by the kernel's pid_max).
  int max_id = 0;
  for (const auto& p : list.processes) {
    max_id = std::max(max_id, p.pid);
    for (const auto& t : p.tasks) max_id = std::max(max_id, t.tid);
  }
  std::vector<Column> cols;
  bool any_header = false;
  for (const auto& c : q.columns) {
    const ps::Keyword* kw = ps::find_keyword(c.key);
    size_t width = c.width > 0 ? static_cast<size_t>(c.width) : kw->width;
    if (c.width <= 0 && pid_column(kw->field)) {
      width = std::max(width, std::to_string(max_id).size());
    }
    cols.push_back(Column{kw, c.header, width});
    any_header |= !c.header.empty();
  }
  std::vector<bool> numeric;
  std::vector<std::string> header_cells;
  for (const auto& c : cols) {
    numeric.push_back(ps::numeric_now(c.kw->field, o));
    header_cells.push_back(c.header);
  }

  // The line's length: --cols, else the terminal's; w makes it at least 132,
  // ww unlimited (procps's choose_dimensions).
  size_t line_cols = q.cols > 0 ? q.cols : ctx.screen_cols;
  if (q.wide >= 2) {
    line_cols = 0;
  } else if (q.wide == 1 && line_cols > 0) {
    line_cols = std::max<size_t>(132, line_cols);
  }
  size_t rows = q.rows > 0 ? q.rows : ctx.screen_rows;
  size_t gap = q.headers == PsHeaders::EveryPage && rows > 1 ? rows - 1 : 0;

  std::string out;
  auto header = [&] { out += layout(cols, header_cells, numeric, true, line_cols) + "\n"; };
  if (q.headers != PsHeaders::None && any_header) header();
  size_t since_header = 0;
  for (const Line& l : lines) {
    if (gap > 0 && any_header && since_header == gap) {
      header();
      since_header = 0;
    }
    std::vector<std::string> cells;
    for (const auto& c : cols) {
      ps::Show show = c.kw->show;
      bool dash = show == ps::Show::Never ||
                  (l.kind == LineKind::ProcessOfM && show == ps::Show::Thread) ||
                  (l.kind == LineKind::ThreadOfM && show == ps::Show::Process);
      cells.push_back(dash ? "-" : ps::render(c.kw->field, l.row, o));
    }
    out += layout(cols, cells, numeric, false, line_cols) + "\n";
    ++since_header;
  }
  return out;
}

std::string format_ps(const PsQuery& q, const std::vector<GuestProcessInfo>& ps, std::time_t now) {
  GuestProcessList list;
  list.processes = ps;
  PsContext ctx;
  ctx.now = now;
  return format_ps(q, list, ctx);
}

}  // namespace hull::cli
