#include "runtime/cli/ps_format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>

namespace hull::cli {
namespace {

using container::GuestProcessInfo;

enum class Align { Left, Right };

struct Keyword {
  const char* header;
  Align align;
  size_t min_width;
  const char* canonical;  // the key format_ps renders
};

// ps(1)'s keywords (procps names and headers) that the agent's list can fill.
const std::map<std::string, Keyword>& keywords() {
  static const std::map<std::string, Keyword> k = {
      {"pid", {"PID", Align::Right, 5, "pid"}},
      {"tgid", {"TGID", Align::Right, 5, "pid"}},
      {"ppid", {"PPID", Align::Right, 5, "ppid"}},
      {"pgid", {"PGID", Align::Right, 5, "pgid"}},
      {"pgrp", {"PGRP", Align::Right, 5, "pgid"}},
      {"sid", {"SID", Align::Right, 5, "sid"}},
      {"sess", {"SESS", Align::Right, 5, "sid"}},
      {"session", {"SESS", Align::Right, 5, "sid"}},
      {"uid", {"UID", Align::Right, 5, "uid"}},
      {"euid", {"EUID", Align::Right, 5, "uid"}},
      {"ruid", {"RUID", Align::Right, 5, "uid"}},
      {"user", {"USER", Align::Left, 8, "user"}},
      {"euser", {"EUSER", Align::Left, 8, "user"}},
      {"ruser", {"RUSER", Align::Left, 8, "user"}},
      {"uname", {"USER", Align::Left, 8, "user"}},
      {"gid", {"GID", Align::Right, 5, "gid"}},
      {"egid", {"EGID", Align::Right, 5, "gid"}},
      {"rgid", {"RGID", Align::Right, 5, "gid"}},
      {"group", {"GROUP", Align::Left, 8, "group"}},
      {"egroup", {"EGROUP", Align::Left, 8, "group"}},
      {"rgroup", {"RGROUP", Align::Left, 8, "group"}},
      {"comm", {"COMMAND", Align::Left, 0, "comm"}},
      {"ucmd", {"CMD", Align::Left, 0, "comm"}},
      {"ucomm", {"COMMAND", Align::Left, 0, "comm"}},
      {"args", {"COMMAND", Align::Left, 0, "args"}},
      {"command", {"COMMAND", Align::Left, 0, "args"}},
      {"cmd", {"CMD", Align::Left, 0, "args"}},
      {"stat", {"STAT", Align::Left, 4, "stat"}},
      {"s", {"S", Align::Left, 1, "s"}},
      {"state", {"S", Align::Left, 1, "s"}},
      {"tty", {"TT", Align::Left, 8, "tty"}},
      {"tt", {"TT", Align::Left, 8, "tty"}},
      {"tname", {"TTY", Align::Left, 8, "tty"}},
      {"time", {"TIME", Align::Right, 8, "time"}},
      {"cputime", {"TIME", Align::Right, 8, "time"}},
      {"bsdtime", {"TIME", Align::Right, 6, "bsdtime"}},
      {"etime", {"ELAPSED", Align::Right, 11, "etime"}},
      {"etimes", {"ELAPSED", Align::Right, 7, "etimes"}},
      {"stime", {"STIME", Align::Left, 5, "stime"}},
      {"start_time", {"START", Align::Left, 5, "stime"}},
      {"bsdstart", {"START", Align::Right, 6, "stime"}},
      {"start", {"STARTED", Align::Right, 8, "start"}},
      {"lstart", {"STARTED", Align::Left, 24, "lstart"}},
      {"c", {"C", Align::Right, 2, "c"}},
      {"pcpu", {"%CPU", Align::Right, 4, "pcpu"}},
      {"%cpu", {"%CPU", Align::Right, 4, "pcpu"}},
      {"pmem", {"%MEM", Align::Right, 4, "pmem"}},
      {"%mem", {"%MEM", Align::Right, 4, "pmem"}},
      {"rss", {"RSS", Align::Right, 5, "rss"}},
      {"rssize", {"RSS", Align::Right, 5, "rss"}},
      {"rsz", {"RSZ", Align::Right, 5, "rss"}},
      {"vsz", {"VSZ", Align::Right, 6, "vsz"}},
      {"vsize", {"VSZ", Align::Right, 6, "vsz"}},
      {"sz", {"SZ", Align::Right, 5, "sz"}},
      {"ni", {"NI", Align::Right, 3, "ni"}},
      {"nice", {"NI", Align::Right, 3, "ni"}},
      {"pri", {"PRI", Align::Right, 3, "pri"}},
      {"nlwp", {"NLWP", Align::Right, 4, "nlwp"}},
      {"thcount", {"THCNT", Align::Right, 5, "nlwp"}},
      {"psr", {"PSR", Align::Right, 3, "psr"}},
      // Columns of the -l/-F layouts the guest's list does not fill: ps(1)
      // itself prints "-" for ADDR, and WCHAN needs the guest's symbols.
      {"f", {"F", Align::Right, 1, "dash"}},
      {"addr", {"ADDR", Align::Right, 4, "dash"}},
      {"wchan", {"WCHAN", Align::Left, 6, "dash"}},
      // Internal: -f's UID (a name, as USER) and -l's PRI (60 + priority).
      {"@fuid", {"UID", Align::Left, 8, "user"}},
      {"@lpri", {"PRI", Align::Right, 3, "lpri"}},
  };
  return k;
}

Result<PsColumn> column(const std::string& key, std::optional<std::string> header) {
  auto it = keywords().find(key);
  if (it == keywords().end() || key.starts_with('@')) {
    std::string known;
    for (const auto& [k, v] : keywords()) {
      if (!k.starts_with('@')) known += (known.empty() ? "" : " ") + k;
    }
    return fail(Errc::Invalid,
                "ps: unknown format keyword \"" + key + "\"; hull ps knows: " + known);
  }
  return PsColumn{key, header ? *header : it->second.header};
}

// A -o list: keys separated by commas or blanks; "key=Header" takes the rest
// of the argument as its header, as ps(1) does.
Status add_format(PsQuery& q, std::string_view list) {
  if (list.empty()) return fail(Errc::Invalid, "ps: -o needs a format list, like -o pid,comm");
  while (!list.empty()) {
    size_t end = list.find_first_of(", ");
    size_t eq = list.find('=');
    std::string key;
    std::optional<std::string> header;
    if (eq != std::string_view::npos && (end == std::string_view::npos || eq < end)) {
      key = std::string(list.substr(0, eq));
      header = std::string(list.substr(eq + 1));
      list = {};
    } else {
      key = std::string(list.substr(0, end));
      list.remove_prefix(end == std::string_view::npos ? list.size() : end + 1);
    }
    if (key.empty()) continue;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    HULL_ASSIGN(c, column(key, header));
    q.columns.push_back(std::move(c));
  }
  return {};
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    size_t end = list.find_first_of(", ");
    if (end != 0) out.emplace_back(list.substr(0, end));
    list.remove_prefix(end == std::string_view::npos ? list.size() : end + 1);
  }
  return out;
}

Status add_pids(PsQuery& q, std::string_view list, std::string_view opt) {
  auto items = split_list(list);
  if (items.empty()) return fail(Errc::Invalid, "ps: " + std::string(opt) + " needs a pid list");
  for (const auto& p : items) {
    int v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || end != p.data() + p.size() || v < 1) {
      return fail(Errc::Invalid, "ps: " + std::string(opt) + ": \"" + p + "\" is not a pid");
    }
    q.pids.push_back(v);
  }
  return {};
}

Error unsupported(std::string_view opt, std::string_view why) {
  return Error{
      Errc::Unsupported, 0,
      "ps option \"" + std::string(opt) + "\" is not supported by hull ps: " + std::string(why)};
}

Status add_uids(PsQuery& q, std::string_view list, std::string_view opt) {
  auto items = split_list(list);
  if (items.empty()) return fail(Errc::Invalid, "ps: " + std::string(opt) + " needs a user list");
  for (const auto& u : items) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(u.data(), u.data() + u.size(), v);
    if (u == "root") {
      v = 0;
    } else if (ec != std::errc() || end != u.data() + u.size()) {
      return fail(unsupported(std::string(opt) + " " + u,
                              "user names other than root cannot be looked up (the users are "
                              "the container's, in its VM); give the numeric uid"));
    }
    q.uids.push_back(v);
  }
  return {};
}

constexpr std::string_view kThreads =
    "the guest lists processes, not threads (the NLWP column counts them: -o pid,nlwp,args)";
constexpr std::string_view kSelect =
    "hull ps selects with -p, -C, -u/-U and r only (every process listed is the container's)";

struct Layout {
  bool full = false, extra = false, lng = false, jobs = false, bsd = false, user = false;
};

std::vector<const char*> default_keys(const Layout& l) {
  if (l.user) {
    return {"user",  "pid",  "pcpu",       "pmem",    "vsz", "rss",
            "tname", "stat", "start_time", "bsdtime", "args"};
  }
  if (l.extra) {
    return {"@fuid", "pid", "ppid", "c", "sz", "rss", "psr", "stime", "tname", "time", "cmd"};
  }
  if (l.lng) {
    if (l.full) {
      return {"f",    "s",  "@fuid", "pid",   "ppid",  "c",    "@lpri", "ni",
              "addr", "sz", "wchan", "stime", "tname", "time", "cmd"};
    }
    return {"f",  "s",    "uid", "pid",   "ppid",  "c",    "@lpri",
            "ni", "addr", "sz",  "wchan", "tname", "time", "ucmd"};
  }
  if (l.jobs) {
    if (l.full) {
      return {"@fuid", "pid", "ppid", "pgid", "sid", "c", "stime", "tname", "time", "cmd"};
    }
    return {"pid", "pgid", "sid", "tname", "time", "ucmd"};
  }
  if (l.full) return {"@fuid", "pid", "ppid", "c", "stime", "tname", "time", "cmd"};
  if (l.bsd) return {"pid", "tname", "stat", "bsdtime", "args"};
  return {"pid", "tname", "time", "ucmd"};
}

// --- rendering -------------------------------------------------------------

std::string num(int64_t v) {
  return std::to_string(v);
}

std::string hms(uint64_t secs, bool days) {
  char buf[64];
  uint64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
  if (days && d > 0) {
    std::snprintf(buf, sizeof buf, "%llu-%02llu:%02llu:%02llu", static_cast<unsigned long long>(d),
                  static_cast<unsigned long long>(h), static_cast<unsigned long long>(m),
                  static_cast<unsigned long long>(s));
  } else {
    std::snprintf(buf, sizeof buf, "%02llu:%02llu:%02llu",
                  static_cast<unsigned long long>(secs / 3600), static_cast<unsigned long long>(m),
                  static_cast<unsigned long long>(s));
  }
  return buf;
}

std::string elapsed(uint64_t secs) {  // [[DD-]hh:]mm:ss
  char buf[64];
  uint64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  if (d > 0) {
    std::snprintf(buf, sizeof buf, "%llu-%02llu:%02llu:%02llu", u(d), u(h), u(m), u(s));
  } else if (h > 0) {
    std::snprintf(buf, sizeof buf, "%02llu:%02llu:%02llu", u(h), u(m), u(s));
  } else {
    std::snprintf(buf, sizeof buf, "%02llu:%02llu", u(m), u(s));
  }
  return buf;
}

std::string strftime_local(std::time_t t, const char* fmt) {
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

std::string tty_name(uint32_t tty_nr) {
  uint32_t major = (tty_nr >> 8) & 0xfff;
  uint32_t minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
  if (tty_nr == 0) return "?";
  if (major >= 136 && major <= 143) return "pts/" + std::to_string((major - 136) * 256 + minor);
  if (major == 4 && minor < 64) return "tty" + std::to_string(minor);
  if (major == 4) return "ttyS" + std::to_string(minor - 64);
  if (major == 5 && minor == 1) return "console";
  return "?";
}

std::string id_name(uint32_t id) {
  return id == 0 ? "root" : std::to_string(id);
}

std::string percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "0.0";
  uint64_t tenths = part * 1000 / whole;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

std::string cell(const std::string& key, const GuestProcessInfo& p, std::time_t now) {
  uint64_t cpu_s = p.cpu_time_ms / 1000;
  std::time_t started = now - static_cast<std::time_t>(p.elapsed_ms / 1000);
  if (key == "pid") return num(p.pid);
  if (key == "ppid") return num(p.ppid);
  if (key == "pgid") return num(p.pgid);
  if (key == "sid") return num(p.sid);
  if (key == "uid") return num(p.uid);
  if (key == "user") return id_name(p.uid);
  if (key == "gid") return num(p.gid);
  if (key == "group") return id_name(p.gid);
  if (key == "comm") return p.comm;
  if (key == "args") {
    std::string a;
    for (const auto& s : p.args) a += (a.empty() ? "" : " ") + s;
    return a.empty() ? "[" + p.comm + "]" : a;
  }
  if (key == "s") return std::string(1, p.state);
  if (key == "stat") {
    std::string s(1, p.state);
    if (p.nice < 0) s += '<';
    if (p.nice > 0) s += 'N';
    if (p.pid == p.sid) s += 's';
    if (p.threads > 1) s += 'l';
    return s;
  }
  if (key == "tty") return tty_name(p.tty);
  if (key == "time") return hms(cpu_s, true);
  if (key == "bsdtime")
    return std::to_string(cpu_s / 60) + ":" + (cpu_s % 60 < 10 ? "0" : "") +
           std::to_string(cpu_s % 60);
  if (key == "etime") return elapsed(p.elapsed_ms / 1000);
  if (key == "etimes") return std::to_string(p.elapsed_ms / 1000);
  if (key == "stime") {
    if (strftime_local(started, "%Y%j") == strftime_local(now, "%Y%j")) {
      return strftime_local(started, "%H:%M");
    }
    if (strftime_local(started, "%Y") == strftime_local(now, "%Y")) {
      return strftime_local(started, "%b%d");
    }
    return strftime_local(started, "%Y");
  }
  if (key == "start") {
    return now - started < 86400 ? strftime_local(started, "%H:%M:%S")
                                 : strftime_local(started, "%b %d");
  }
  if (key == "lstart") return strftime_local(started, "%a %b %e %H:%M:%S %Y");
  if (key == "c") {
    return std::to_string(p.elapsed_ms ? std::min<uint64_t>(99, p.cpu_time_ms * 100 / p.elapsed_ms)
                                       : 0);
  }
  if (key == "pcpu") return percent(p.cpu_time_ms, p.elapsed_ms);
  if (key == "pmem") return percent(p.rss_kib, p.mem_total_kib);
  if (key == "rss") return std::to_string(p.rss_kib);
  if (key == "vsz") return std::to_string(p.vsz_kib);
  if (key == "sz") return std::to_string(p.vsz_kib / 4);
  if (key == "ni") return num(p.nice);
  if (key == "pri") return num(39 - p.priority);
  if (key == "lpri") return num(60 + p.priority);
  if (key == "nlwp") return std::to_string(p.threads);
  if (key == "psr") return num(p.processor);
  return "-";
}

bool selected(const PsQuery& q, const GuestProcessInfo& p) {
  if (!q.pids.empty() && std::find(q.pids.begin(), q.pids.end(), p.pid) == q.pids.end()) {
    return false;
  }
  if (!q.commands.empty() &&
      std::find(q.commands.begin(), q.commands.end(), p.comm) == q.commands.end()) {
    return false;
  }
  if (!q.uids.empty() && std::find(q.uids.begin(), q.uids.end(), p.uid) == q.uids.end()) {
    return false;
  }
  return !q.running_only || p.state == 'R';
}

}  // namespace

Result<PsQuery> parse_ps_args(const std::vector<std::string>& args) {
  PsQuery q;
  Layout l;
  if (args.empty()) l.full = true;  // runc runs `ps -ef`
  auto next = [&](size_t& i, std::string_view opt) -> Result<std::string> {
    if (i + 1 >= args.size()) {
      return fail(Errc::Invalid, "ps: " + std::string(opt) + " needs an argument");
    }
    return args[++i];
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.starts_with("--")) {
      std::string name = a.substr(2), value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
        has_value = true;
      }
      auto val = [&]() -> Result<std::string> {
        if (has_value) return value;
        return next(i, a);
      };
      if (name == "format") {
        HULL_ASSIGN(v, val());
        HULL_TRY(add_format(q, v));
      } else if (name == "pid") {
        HULL_ASSIGN(v, val());
        HULL_TRY(add_pids(q, v, a));
      } else if (name == "user" || name == "User") {
        HULL_ASSIGN(v, val());
        HULL_TRY(add_uids(q, v, a));
      } else if (name == "no-headers" || name == "no-heading") {
        q.headers = false;
      } else if (name == "cols" || name == "columns" || name == "width") {
        HULL_TRY(val());
      } else if (name == "forest") {
        return fail(unsupported(a, "the process tree is not drawn; use -o pid,ppid,args"));
      } else {
        return fail(unsupported(a, kSelect));
      }
      continue;
    }
    bool unix_style = a.starts_with('-');
    std::string_view letters = unix_style ? std::string_view(a).substr(1) : std::string_view(a);
    if (!unix_style && !a.empty() && std::isdigit(static_cast<unsigned char>(a[0]))) {
      HULL_TRY(add_pids(q, a, "pid list"));  // `ps 1 7`
      continue;
    }
    for (size_t k = 0; k < letters.size(); ++k) {
      char c = letters[k];
      std::string opt = (unix_style ? "-" : "") + std::string(1, c);
      // The option's argument: the rest of this word, else the next one.
      auto arg = [&]() -> Result<std::string> {
        std::string rest(letters.substr(k + 1));
        k = letters.size();
        if (!rest.empty()) return rest;
        return next(i, opt);
      };
      switch (c) {
        case 'e':
          if (!unix_style) return fail(unsupported(opt, "the environment is not shown"));
          break;
        case 'A':
        case 'a':
        case 'd':
        case 'x':
        case 'g':
          if (c == 'x' || (c == 'a' && !unix_style)) l.bsd = true;
          if (c == 'g' && unix_style) return fail(unsupported(opt, kSelect));
          break;
        case 'w':
        case 'y':
          break;
        case 'f':
          if (!unix_style) {
            return fail(unsupported(opt, "the process tree is not drawn; use -o pid,ppid,args"));
          }
          l.full = true;
          break;
        case 'F':
          l.extra = l.full = true;
          break;
        case 'l':
          if (!unix_style) return fail(unsupported(opt, "use -l or -o"));
          l.lng = true;
          break;
        case 'j':
          if (!unix_style) return fail(unsupported(opt, "use -j or -o"));
          l.jobs = true;
          break;
        case 'u':
          if (unix_style) {
            HULL_ASSIGN(v, arg());
            HULL_TRY(add_uids(q, v, opt));
          } else {
            l.user = true;
          }
          break;
        case 'U': {
          HULL_ASSIGN(v, arg());
          HULL_TRY(add_uids(q, v, opt));
          break;
        }
        case 'o':
        case 'O': {
          if (c == 'O') return fail(unsupported(opt, "use -o with the columns wanted"));
          HULL_ASSIGN(v, arg());
          HULL_TRY(add_format(q, v));
          break;
        }
        case 'p': {
          HULL_ASSIGN(v, arg());
          HULL_TRY(add_pids(q, v, opt));
          break;
        }
        case 'C': {
          if (!unix_style) return fail(unsupported(opt, kSelect));
          HULL_ASSIGN(v, arg());
          auto names = split_list(v);
          q.commands.insert(q.commands.end(), names.begin(), names.end());
          break;
        }
        case 'r':
          if (unix_style) return fail(unsupported(opt, kSelect));
          q.running_only = true;
          break;
        case 'L':
        case 'T':
        case 'm':
        case 'H':
          if (c == 'H' && unix_style) {
            return fail(unsupported(opt, "the process tree is not drawn; use -o pid,ppid,args"));
          }
          return fail(unsupported(opt, kThreads));
        default:
          return fail(unsupported(opt, kSelect));
      }
    }
  }
  if (q.columns.empty()) {
    for (const char* key : default_keys(l)) {
      auto c = column(key, std::nullopt);
      if (!c) {  // the internal keys
        const Keyword& kw = keywords().at(key);
        q.columns.push_back(PsColumn{key, kw.header});
      } else {
        q.columns.push_back(std::move(*c));
      }
    }
  }
  return q;
}

std::string format_ps(const PsQuery& q, const std::vector<GuestProcessInfo>& ps, std::time_t now) {
  std::vector<std::vector<std::string>> rows;
  bool any_header = false;
  std::vector<std::string> header;
  for (const auto& c : q.columns) {
    header.push_back(c.header);
    any_header |= !c.header.empty();
  }
  if (q.headers && any_header) rows.push_back(header);
  for (const auto& p : ps) {
    if (!selected(q, p)) continue;
    std::vector<std::string> row;
    for (const auto& c : q.columns) row.push_back(cell(keywords().at(c.key).canonical, p, now));
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width;
  for (const auto& c : q.columns) width.push_back(keywords().at(c.key).min_width);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      bool last = i + 1 == r.size();
      size_t pad = width[i] - r[i].size();
      if (i > 0) line += ' ';
      if (keywords().at(q.columns[i].key).align == Align::Right) {
        line += std::string(pad, ' ') + r[i];
      } else {
        line += r[i];
        if (!last) line += std::string(pad, ' ');
      }
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace hull::cli
