// finish_ps_query (ps_options.h): the columns, sort keys, thread mode and
// selection a ps(1) command line asks for, as procps-ng builds them.
#include <cctype>
#include <charconv>

#include "runtime/cli/ps_keywords.h"
#include "runtime/cli/ps_options.h"

namespace hull::cli::ps {

std::unexpected<Error> invalid(const std::string& msg) {
  return fail(Errc::Invalid, "ps: " + msg);
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    size_t end = list.find_first_of(", \t\n");
    if (end != 0) out.emplace_back(list.substr(0, end));
    list.remove_prefix(end == std::string_view::npos ? list.size() : end + 1);
  }
  return out;
}

namespace {

// The 'short sort' letters of BSD O (procps's table).
const char* short_sort_key(char c) {
  switch (c) {
    case 'C':
      return "pcpu";
    case 'G':
      return "tpgid";
    case 'M':
      return "maj_flt";
    case 'P':
      return "ppid";
    case 'R':
      return "rss";
    case 'T':
      return "start_time";
    case 'U':
      return "uid";
    case 'c':
      return "cmd";
    case 'f':
      return "flags";
    case 'g':
      return "pgrp";
    case 'k':
      return "cputime";
    case 'm':
      return "min_flt";
    case 'o':
      return "session";
    case 'p':
      return "pid";
    case 'r':
      return "rss";
    case 's':
      return "size";
    case 't':
      return "tty";
    case 'u':
      return "user";
    case 'v':
      return "vsize";
    case 'y':
      return "priority";
    default:
      return nullptr;
  }
}

class Layout {
 public:
  explicit Layout(PsOptions o) : o_(std::move(o)) {}

  Result<PsQuery> run() {
    HULL_TRY(threads());
    HULL_TRY(formats());
    HULL_TRY(selection());
    return std::move(o_.q);
  }

 private:
  // procps's thread_option_check.
  Status threads() {
    unsigned t = o_.thread_flags;
    if (t == 0) return {};
    if (o_.forest) return invalid("thread display conflicts with forest display");
    if ((t & kThreadsH) && (t & (kThreadsBsdM | kThreadsUnixM))) {
      return invalid("thread flags conflict; can't use H with m or -m");
    }
    if ((t & kThreadsBsdM) && (t & kThreadsUnixM)) {
      return invalid("thread flags conflict; can't use both m and -m");
    }
    if ((t & kThreadsL) && (t & kThreadsT)) {
      return invalid("thread flags conflict; can't use both -L and -T");
    }
    must_use_ = (t & (kThreadsL | kThreadsT)) && (t & (kThreadsBsdM | kThreadsUnixM | kThreadsH));
    if (t & (kThreadsBsdM | kThreadsUnixM)) {
      o_.q.threads = PsThreads::WithProcess;
    } else if (t & kThreadsH) {
      o_.q.threads = PsThreads::AsProcesses;
    } else if (t & kThreadsL) {
      o_.q.threads = PsThreads::Lwp;
    } else {
      o_.q.threads = PsThreads::Spid;
    }
    return {};
  }

  // One format list: "key[:width][=header]" items, separated by commas or blanks.
  Status parse_format(std::string_view list, std::vector<PsColumn>& out) {
    bool need_item = true;
    for (char c : list) {
      bool sep = c == ',' || c == ' ' || c == '\t' || c == '\n';
      if (sep && need_item) return invalid("improper format list");
      need_item = sep;
    }
    if (list.empty()) return invalid("improper format list");
    for (const auto& item : split_list(list)) {
      std::string key = item;
      std::optional<std::string> header;
      int width = -1;
      if (size_t eq = key.find('='); eq != std::string::npos) {
        header = key.substr(eq + 1);
        key.resize(eq);
      }
      if (size_t colon = key.find(':'); colon != std::string::npos) {
        std::string w = key.substr(colon + 1);
        key.resize(colon);
        int n = 0;
        auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), n);
        if (ec != std::errc() || end != w.data() + w.size() || n < 1 || n > 4096) {
          return invalid("width of \"" + key + "\" must be a number from 1 to 4096");
        }
        width = n;
      }
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const ps::Keyword* kw = ps::find_keyword(key);
      if (!kw) {
        return fail(Errc::Invalid, "ps: unknown format keyword \"" + key +
                                       "\"; the keywords are: " + ps::keyword_names());
      }
      out.push_back(PsColumn{key, header ? *header : std::string(kw->header), width});
    }
    return {};
  }

  Status parse_sort(std::string_view list) {
    if (list.empty()) return invalid("unknown sort specifier");
    for (const auto& item : split_list(list)) {
      PsSortKey k;
      std::string_view key = item;
      if (key.starts_with('+') || key.starts_with('-')) {
        k.descending = key[0] == '-';
        key.remove_prefix(1);
      }
      std::string lower(key);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!ps::find_keyword(lower)) return invalid("unknown sort specifier");
      k.key = lower;
      o_.q.sort.push_back(std::move(k));
    }
    return {};
  }

  // BSD O's old meaning: short sort letters ("Op", "O-r").
  bool parse_short_sort(std::string_view list) {
    std::vector<PsSortKey> keys;
    bool descending = false;
    for (char c : list) {
      if (c == '+' || c == '-') {
        descending = c == '-';
        continue;
      }
      const char* key = short_sort_key(c);
      if (!key) return false;
      keys.push_back({key, descending});
      descending = false;
    }
    if (keys.empty()) return false;
    o_.q.sort.insert(o_.q.sort.end(), keys.begin(), keys.end());
    return true;
  }

  Status add_keys(std::initializer_list<const char*> keys) {
    for (const char* k : keys) HULL_TRY(parse_format(k, o_.q.columns));
    return {};
  }

  // procps's generate_sysv_list: the UNIX layouts, modifiers included.
  Status sysv_list() {
    bool f = o_.format_flags & kUnixF, l = o_.format_flags & kUnixL;
    if ((o_.modifiers & kModY) && !l)
      return invalid("modifier -y without format -l makes no sense");
    bool y = o_.modifiers & kModY, c = o_.modifiers & kModC;
    std::vector<const char*> k;
    if (o_.modifiers & kModM) k.push_back("label");
    if (l && !y) k.push_back("f");
    if (l) k.push_back("s");
    if (f) {
      k.push_back("uid_hack");
    } else if (l) {
      k.push_back("uid");
    }
    k.push_back("pid");
    if (o_.thread_flags & kThreadsT) k.push_back("spid");
    if (f || l) k.push_back("ppid");
    if (o_.modifiers & kModJ) {
      k.push_back("pgid");
      k.push_back("sid");
    }
    if (o_.thread_flags & kThreadsL) k.push_back("lwp");
    if (o_.modifiers & kModP) k.push_back("psr");
    if ((f || l) && !c) k.push_back("c");
    if ((o_.thread_flags & kThreadsL) && f) k.push_back("nlwp");
    if (c) {
      k.push_back("class");
      k.push_back("pri");
    } else if (l) {
      k.push_back("opri");
      k.push_back("ni");
    }
    if (l) k.push_back(y ? "rss" : "addr_1");
    if ((o_.modifiers & kModF) || l) k.push_back("sz");
    if (l) k.push_back("wchan");
    if (o_.modifiers & kModF) {
      if (!(l && y)) k.push_back("rss");
      if (!(o_.modifiers & kModP)) k.push_back("psr");
    }
    if (f) k.push_back("stime");
    k.push_back("tname");
    if (o_.prefer_bsd) {
      if (!l) k.push_back("stat");
      k.push_back("bsdtime");
      k.push_back(o_.format_flags ? "cmd" : "args");
    } else {
      k.push_back("time");
      k.push_back(f ? "cmd" : "ucmd");
    }
    for (const char* key : k) HULL_TRY(parse_format(key, o_.q.columns));
    return {};
  }

  size_t find_header(std::string_view h) const {
    for (size_t i = 0; i < o_.q.columns.size(); ++i) {
      if (o_.q.columns[i].header == h) return i;
    }
    return std::string::npos;
  }
  bool add_after(std::string_view h, const char* key) {
    size_t at = find_header(h);
    if (at == std::string::npos) return false;
    std::vector<PsColumn> one;
    (void)parse_format(key, one);
    o_.q.columns.insert(o_.q.columns.begin() + static_cast<std::ptrdiff_t>(at) + 1, one.front());
    return true;
  }
  bool remove(std::string_view h) {
    size_t at = find_header(h);
    if (at == std::string::npos) return false;
    o_.q.columns.erase(o_.q.columns.begin() + static_cast<std::ptrdiff_t>(at));
    return true;
  }

  // procps's process_sf_options: user lists, else the layout the flags name.
  Status formats() {
    bool preloaded = false, listed = false;
    for (const auto& s : o_.sf) {
      if (s.kind == SfKind::Sort) {
        HULL_TRY(parse_sort(s.text));
      } else if (s.kind == SfKind::Format) {
        if (preloaded) return invalid("option -O can not follow other format options");
        listed = true;
        HULL_TRY(parse_format(s.text, o_.q.columns));
      } else {
        std::vector<PsColumn> user;
        Status st = parse_format(s.text, user);
        if (!st) {
          if (s.kind == SfKind::BsdPreloaded && parse_short_sort(s.text)) continue;
          return st;
        }
        if (listed || preloaded) return invalid("option -O can not follow other format options");
        preloaded = true;
        HULL_TRY(parse_format("pid", o_.q.columns));
        o_.q.columns.insert(o_.q.columns.end(), user.begin(), user.end());
        HULL_TRY(parse_format(s.kind == SfKind::UnixPreloaded ? "state,tname,time,command"
                                                              : "state,tname,cputime,comm",
                              o_.q.columns));
      }
    }
    if (!o_.q.columns.empty()) {
      if (o_.format_flags) return invalid("conflicting format options");
      if (o_.modifiers) return invalid("can not use output modifiers with user-defined output");
      if (must_use_) return invalid("-L/-T with H/m/-m and -o/-O/o/O is nonsense");
      return {};
    }
    const char* spec = nullptr;
    switch (o_.format_flags) {
      case 0:
      case kUnixF:
      case kUnixL:
      case kUnixF | kUnixL:
        return sysv_list();
      case kBsdJ:
        spec = "ppid,pid,pgid,sid,tname,tpgid,stat,uid,bsdtime,args";
        break;
      case kBsdL:
        spec = "flags,uid,pid,ppid,priority,nice,vsz,rss,wchan,stat,tname,bsdtime,args";
        break;
      case kBsdS:
        spec = "uid,pid,pending,sig_block,sig_ignore,caught,stat,tname,bsdtime,args";
        break;
      case kBsdU:
        spec = "user,pid,pcpu,pmem,vsz,rss,tname,stat,start_time,bsdtime,args";
        break;
      case kBsdV:
        spec = "pid,tname,stat,bsdtime,maj_flt,m_trs,m_drs,rss,pmem,args";
        break;
      case kLinuxX:
        spec = "pid,start_stack,esp,eip,timeout,alarm,stat,tname,bsdtime,args";
        break;
      case kLinuxM:
        spec = "pid,tname,majflt,minflt,m_trs,m_drs,m_size,m_swap,rss,m_share,vm_lib,m_dt,args";
        break;
      case kContext:
        spec = "pid,context,command";
        break;
      default:
        return invalid("conflicting format options");
    }
    HULL_TRY(parse_format(spec, o_.q.columns));
    // The modifiers on a BSD layout.
    if (o_.modifiers & kModJ) {
      if (!add_after("PPID", "pgid")) (void)add_after("PID", "pgid");
      if (!add_after("PGID", "sid")) return invalid("lost my PGID");
    }
    if (o_.modifiers & kModY) {
      (void)remove("F");
      if (add_after("ADDR", "rss")) (void)remove("ADDR");
    }
    if (o_.modifiers & kModC) {
      for (const char* h : {"%CPU", "CPU", "CP", "C", "NI"}) (void)remove(h);
      if (add_after("PRI", "class")) {
        (void)remove("PRI");
        (void)add_after("CLS", "pri");
      }
    }
    if (o_.thread_flags & kThreadsT) {
      if (!add_after("PID", "spid") && must_use_) {
        return invalid("-T with H/-m/m but no PID for SPID to follow");
      }
    }
    if (o_.thread_flags & kThreadsL) {
      bool placed = false;
      for (const char* h : {"SID", "SESS", "PGID", "PGRP", "PPID", "PID"}) {
        if ((placed = add_after(h, "lwp"))) break;
      }
      if (!placed && must_use_) {
        return invalid("-L with H/-m/m but no PID/PGID/SID/SESS for NLWP to follow");
      }
      (void)add_after("%CPU", "nlwp");
    }
    if (o_.modifiers & kModM) {
      std::vector<PsColumn> label;
      HULL_TRY(parse_format("label", label));
      o_.q.columns.insert(o_.q.columns.begin(), label.front());
    }
    return {};
  }

  // procps's select_bits_setup: a table of which (own euid, session leader,
  // no tty, own tty) combinations the simple selections take.
  Status selection() {
    if (o_.forest == 'u') {
      o_.q.forest = PsForest::Indent;
    } else if (o_.forest) {
      o_.q.forest = PsForest::Ascii;
    }
    if (o_.simple != 0) {
      unsigned v = (o_.simple & (kSelUnixA | kSelUnixD)) ? o_.simple : o_.simple | kSelBsdG;
      switch (v) {
        case kSelUnixA | kSelUnixD:
          o_.q.simple = 0x3f3f;
          break;
        case kSelUnixA:
          o_.q.simple = 0x0303;
          break;
        case kSelUnixD:
          o_.q.simple = 0x3333;
          break;
        case kSelBsdG:
          o_.q.simple = 0x0a0a;
          break;
        case kSelBsdG | kSelBsdA:
          o_.q.simple = 0x0f0f;
          break;
        case kSelBsdG | kSelBsdX:
          o_.q.simple = 0xaaaa;
          break;
        case kSelBsdG | kSelBsdX | kSelBsdA:
          o_.q.all = true;
          break;
        default:
          return invalid("process selection options conflict");
      }
    }
    // hull's difference: no selection at all lists every process of the
    // container (ps would list the caller's own on its terminal: none).
    if (!o_.q.all && o_.q.simple == 0 && o_.q.lists.empty() && !o_.q.own_terminal) o_.q.all = true;
    return {};
  }

  PsOptions o_;
  bool must_use_ = false;
};

}  // namespace

Result<PsQuery> finish_ps_query(PsOptions options) {
  return Layout(std::move(options)).run();
}

}  // namespace hull::cli::ps
