// parse_ps_args: ps(1)'s command line as procps-ng parses it (ps_format.h).
#include <algorithm>
#include <cctype>
#include <charconv>

#include "runtime/cli/ps_format.h"
#include "runtime/cli/ps_keywords.h"

namespace hull::cli {
namespace {

// procps's option state: format flags (the layouts), format modifiers, thread
// flags and simple selections.
enum : unsigned {
  kUnixF = 1 << 0,    // -f
  kUnixL = 1 << 1,    // -l
  kBsdJ = 1 << 2,     // j
  kBsdL = 1 << 3,     // l
  kBsdS = 1 << 4,     // s
  kBsdU = 1 << 5,     // u
  kBsdV = 1 << 6,     // v
  kLinuxX = 1 << 7,   // X
  kLinuxM = 1 << 8,   // m when parsed as BSD after a failed UNIX parse
  kContext = 1 << 9,  // --context
};
enum : unsigned {
  kModC = 1 << 0,  // -c
  kModJ = 1 << 1,  // -j
  kModY = 1 << 2,  // -y
  kModF = 1 << 3,  // -F
  kModM = 1 << 4,  // -M Z
  kModP = 1 << 5,  // -P
};
enum : unsigned {
  kThreadsL = 1 << 0,      // -L
  kThreadsT = 1 << 1,      // -T
  kThreadsUnixM = 1 << 2,  // -m
  kThreadsBsdM = 1 << 3,   // m
  kThreadsH = 1 << 4,      // H
};
enum : unsigned {
  kSelUnixA = 1 << 0,  // -a
  kSelUnixD = 1 << 1,  // -d
  kSelBsdA = 1 << 2,   // a
  kSelBsdX = 1 << 3,   // x
  kSelBsdG = 1 << 4,   // g
};

enum class SfKind { Format, UnixPreloaded, BsdPreloaded, Sort };
struct SfSpec {
  SfKind kind;
  std::string text;
};

std::unexpected<Error> invalid(const std::string& msg) {
  return fail(Errc::Invalid, "ps: " + msg);
}

std::unexpected<Error> unsupported(std::string_view opt, std::string_view what) {
  return fail(Errc::Unsupported,
              "ps option \"" + std::string(opt) + "\" is not supported by hull ps: it prints " +
                  std::string(what) + ", not the container's processes (run ps on the host)");
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

class Parser {
 public:
  Parser(const std::vector<std::string>& args, const PsNames& names, bool force_bsd)
      : args_(args), names_(names), force_bsd_(force_bsd) {}

  Result<PsQuery> run() {
    if (args_.empty()) {  // runc's default: ps -ef
      q_.all = true;
      format_flags_ = kUnixF;
      q_.full = true;
    }
    for (i_ = 0; i_ < args_.size(); ++i_) HULL_TRY(one(args_[i_]));
    HULL_TRY(threads());
    HULL_TRY(formats());
    HULL_TRY(selection());
    return std::move(q_);
  }

 private:
  Status one(const std::string& a) {
    if (a.size() >= 3 && a.starts_with("--") && std::isalpha(static_cast<unsigned char>(a[2]))) {
      return gnu(a);
    }
    if (a.empty()) return invalid("garbage option");
    char c0 = a[0];
    if (std::isalpha(static_cast<unsigned char>(c0))) {
      // procps's second pass takes "-x" words as BSD, and fails on real BSD ones.
      if (force_bsd_) return invalid("way bad");
      prefer_bsd_ = true;
      return bsd(a, 0);
    }
    if (std::isdigit(static_cast<unsigned char>(c0))) {
      prefer_bsd_ = true;
      return add_list(PsSelector::Kind::Pid, a, &Parser::pid_item);
    }
    if (c0 == '+' && a.size() > 1) {
      prefer_bsd_ = true;
      return add_list(PsSelector::Kind::Session, a.substr(1), &Parser::pid_item);
    }
    if (c0 != '-' || a.size() < 2) return invalid("garbage option");
    char c1 = a[1];
    if (std::isdigit(static_cast<unsigned char>(c1))) {
      prefer_bsd_ = true;
      return add_list(PsSelector::Kind::Pgrp, a.substr(1), &Parser::pid_item);
    }
    if (!std::isalpha(static_cast<unsigned char>(c1))) return invalid("garbage option");
    if (force_bsd_) {
      prefer_bsd_ = true;
      return bsd(a, 1);
    }
    return unix_opt(a);
  }

  // The argument of the option letter at a[k]: the rest of the word, else the next one.
  std::optional<std::string> opt_arg(const std::string& a, size_t k) {
    if (k + 1 < a.size()) return a.substr(k + 1);
    if (i_ + 1 >= args_.size() || args_[i_ + 1].empty()) return std::nullopt;
    return args_[++i_];
  }

  using ItemParser = Result<std::string> (Parser::*)(const std::string&) const;

  Result<std::string> pid_item(const std::string& s) const {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
      return invalid("process ID list syntax error");
    }
    if (v < 1 || v > 0x7fffffff) return invalid("process ID out of range");
    return std::to_string(v);
  }
  Result<std::string> uid_item(const std::string& s) const {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return std::to_string(v);
    auto it = names_.users.find(s);
    if (it == names_.users.end()) return invalid("user name does not exist");
    return std::to_string(it->second);
  }
  Result<std::string> gid_item(const std::string& s) const {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return std::to_string(v);
    auto it = names_.groups.find(s);
    if (it == names_.groups.end()) return invalid("group name does not exist");
    return std::to_string(it->second);
  }
  Result<std::string> tty_item(const std::string& s) const {
    std::string t = s.starts_with("/dev/") ? s.substr(5) : s;
    if (t.empty()) return invalid("TTY could not be found");
    return t;
  }
  Result<std::string> text_item(const std::string& s) const { return s; }

  Status add_list(PsSelector::Kind kind, const std::string& list, ItemParser item) {
    auto items = split_list(list);
    if (items.empty()) return invalid("improper list");
    PsSelector sel{kind, {}};
    for (const auto& s : items) {
      HULL_ASSIGN(v, (this->*item)(s));
      sel.values.push_back(std::move(v));
    }
    q_.lists.push_back(std::move(sel));
    return {};
  }

  Status list_option(const std::string& a, size_t k, PsSelector::Kind kind, ItemParser item,
                     const char* what) {
    auto arg = opt_arg(a, k);
    if (!arg) return invalid(std::string(what));
    return add_list(kind, *arg, item);
  }

  Status unix_opt(const std::string& a) {
    for (size_t k = 1; k < a.size(); ++k) {
      using K = PsSelector::Kind;
      switch (a[k]) {
        case 'A':
        case 'e':
          q_.all = true;
          break;
        case 'a':
          simple_ |= kSelUnixA;
          break;
        case 'd':
          simple_ |= kSelUnixD;
          break;
        case 'C':
          return list_option(a, k, K::Command, &Parser::text_item,
                             "list of command names must follow -C");
        case 'F':
          modifiers_ |= kModF;
          format_flags_ |= kUnixF;
          q_.full = true;
          break;
        case 'G':
          return list_option(a, k, K::Rgid, &Parser::gid_item,
                             "list of real groups must follow -G");
        case 'H':
          forest_ = 'u';
          break;
        case 'L':
          thread_flags_ |= kThreadsL;
          break;
        case 'M':
        case 'Z':
          modifiers_ |= kModM;
          break;
        case 'N':
          q_.negate = true;
          break;
        case 'O': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("format or sort specification must follow -O");
          sf_.push_back({SfKind::UnixPreloaded, *arg});
          return {};
        }
        case 'P':
          modifiers_ |= kModP;
          break;
        case 'T':
          thread_flags_ |= kThreadsT;
          break;
        case 'U':
          return list_option(a, k, K::Ruid, &Parser::uid_item, "list of real users must follow -U");
        case 'V':
          return exclusive("-V", "ps's own version");
        case 'c':
          modifiers_ |= kModC;
          break;
        case 'f':
          format_flags_ |= kUnixF;
          q_.full = true;
          break;
        case 'g': {
          auto arg = opt_arg(a, k);
          if (!arg)
            return invalid("list of session leaders OR effective group names must follow -g");
          if (add_list(K::Session, *arg, &Parser::pid_item)) return {};
          if (add_list(K::Egid, *arg, &Parser::gid_item)) return {};
          return invalid("list of session leaders OR effective group IDs was invalid");
        }
        case 'j':
          modifiers_ |= kModJ;
          break;
        case 'l':
          format_flags_ |= kUnixL;
          break;
        case 'm':
          thread_flags_ |= kThreadsUnixM;
          break;
        case 'n':  // the System.map file ps once read WCHAN names from
          if (!opt_arg(a, k)) return invalid("alternate System.map file must follow -n");
          return {};
        case 'o': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("format specification must follow -o");
          sf_.push_back({SfKind::Format, *arg});
          return {};
        }
        case 'p':
          return list_option(a, k, K::Pid, &Parser::pid_item, "list of process IDs must follow -p");
        case 'q':
          return list_option(a, k, K::Pid, &Parser::pid_item, "list of process IDs must follow -q");
        case 's':
          return list_option(a, k, K::Session, &Parser::pid_item,
                             "list of session IDs must follow -s");
        case 't':
          return list_option(a, k, K::Tty, &Parser::tty_item,
                             "list of terminals (pty, tty...) must follow -t");
        case 'u':
          return list_option(a, k, K::Euid, &Parser::uid_item, "list of users must follow -u");
        case 'w':
          ++q_.wide;
          break;
        case 'x':
          return invalid("must set personality to get -x option");
        case 'y':
          modifiers_ |= kModY;
          break;
        case '-':
          return invalid("embedded '-' among SysV options makes no sense");
        default:
          return invalid("unsupported SysV option");
      }
    }
    return {};
  }

  Status bsd(const std::string& a, size_t from) {
    for (size_t k = from; k < a.size(); ++k) {
      using K = PsSelector::Kind;
      char c = a[k];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        return add_list(K::Pid, a.substr(k), &Parser::pid_item);
      }
      switch (c) {
        case 'H':
          thread_flags_ |= kThreadsH;
          break;
        case 'L':
          return exclusive("L", "ps's list of format keywords");
        case 'M':
          thread_flags_ |= kThreadsBsdM;
          break;
        case 'N':
          if (!opt_arg(a, k)) return invalid("alternate System.map file must follow N");
          return {};
        case 'O': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("format or sort specification must follow O");
          sf_.push_back({SfKind::BsdPreloaded, *arg});
          return {};
        }
        case 'S':
          q_.cumulative = true;
          break;
        case 'T':
          q_.own_terminal = true;
          break;
        case 'U':
          return list_option(a, k, K::Euid, &Parser::uid_item, "list of users must follow U");
        case 'V':
          return exclusive("V", "ps's own version");
        case 'W':
          return invalid("obsolete W option not supported (you have a /dev/drum?)");
        case 'X':
          format_flags_ |= kLinuxX;
          break;
        case 'Z':
          modifiers_ |= kModM;
          break;
        case 'a':
          simple_ |= kSelBsdA;
          break;
        case 'c':
          q_.command_name = true;
          break;
        case 'e':
          q_.environment = true;
          break;
        case 'f':
          forest_ = 'b';
          break;
        case 'g':
          simple_ |= kSelBsdG;
          break;
        case 'h':
          if (header_set_) return invalid("only one heading option may be specified");
          header_set_ = true;
          q_.headers = PsHeaders::None;
          break;
        case 'j':
          format_flags_ |= kBsdJ;
          break;
        case 'k': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("long sort specification must follow 'k'");
          sf_.push_back({SfKind::Sort, *arg});
          return {};
        }
        case 'l':
          format_flags_ |= kBsdL;
          break;
        case 'm':
          if (force_bsd_) {
            format_flags_ |= kLinuxM;  // procps's old Linux m: the memory layout
          } else {
            thread_flags_ |= kThreadsBsdM;
          }
          break;
        case 'n':
          q_.numeric = true;
          break;
        case 'o': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("format specification must follow o");
          sf_.push_back({SfKind::Format, *arg});
          return {};
        }
        case 'p':
          return list_option(a, k, K::Pid, &Parser::pid_item, "list of process IDs must follow p");
        case 'q':
          return list_option(a, k, K::Pid, &Parser::pid_item, "list of process IDs must follow q");
        case 'r':
          q_.running_only = true;
          break;
        case 's':
          format_flags_ |= kBsdS;
          break;
        case 't': {
          auto arg = opt_arg(a, k);
          if (!arg) {  // the caller's own terminal
            q_.own_terminal = true;
            return {};
          }
          return add_list(K::Tty, *arg, &Parser::tty_item);
        }
        case 'u':
          format_flags_ |= kBsdU;
          break;
        case 'v':
          format_flags_ |= kBsdV;
          break;
        case 'w':
          ++q_.wide;
          break;
        case 'x':
          simple_ |= kSelBsdX;
          break;
        case '-':
          return invalid("embedded '-' among BSD options makes no sense");
        default:
          return invalid("unsupported option (BSD syntax)");
      }
    }
    return {};
  }

  Status gnu(const std::string& a) {
    std::string_view rest = std::string_view(a).substr(2);
    size_t sep = rest.find_first_of(":=");
    std::string name(rest.substr(0, sep));
    std::optional<std::string> inline_arg;
    if (sep != std::string_view::npos) inline_arg = std::string(rest.substr(sep + 1));
    auto arg = [&]() -> std::optional<std::string> {
      if (inline_arg) return inline_arg->empty() ? std::nullopt : inline_arg;
      if (i_ + 1 >= args_.size() || args_[i_ + 1].empty()) return std::nullopt;
      return args_[++i_];
    };
    auto no_arg = [&](const char* opt) -> Status {
      if (inline_arg) return invalid("option --" + std::string(opt) + " does not take an argument");
      return {};
    };
    auto number = [&](size_t* out, const char* msg) -> Status {
      auto v = arg();
      size_t n = 0;
      if (v) {
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec == std::errc() && end == v->data() + v->size() && n > 0 && n < 2000000000) {
          *out = n;
          return {};
        }
      }
      return invalid(msg);
    };
    using K = PsSelector::Kind;
    auto list = [&](K kind, ItemParser item, const char* msg) -> Status {
      auto v = arg();
      if (!v) return invalid(msg);
      return add_list(kind, *v, item);
    };
    if (name == "Group")
      return list(K::Rgid, &Parser::gid_item, "list of real groups must follow --Group");
    if (name == "User")
      return list(K::Ruid, &Parser::uid_item, "list of real users must follow --User");
    if (name == "group")
      return list(K::Egid, &Parser::gid_item, "list of effective groups must follow --group");
    if (name == "user")
      return list(K::Euid, &Parser::uid_item, "list of effective users must follow --user");
    if (name == "pid")
      return list(K::Pid, &Parser::pid_item, "list of process IDs must follow --pid");
    if (name == "quick-pid")
      return list(K::Pid, &Parser::pid_item, "list of process IDs must follow --quick-pid");
    if (name == "ppid")
      return list(K::Ppid, &Parser::pid_item, "list of process IDs must follow --ppid");
    if (name == "sid")
      return list(K::Session, &Parser::pid_item, "some sid thing(s) must follow --sid");
    if (name == "tty") return list(K::Tty, &Parser::tty_item, "list of ttys must follow --tty");
    if (name == "cols" || name == "columns" || name == "width") {
      return number(&q_.cols, "number of columns must follow --cols, --width, or --columns");
    }
    if (name == "rows" || name == "lines") {
      return number(&q_.rows, "number of rows must follow --rows or --lines");
    }
    if (name == "context") {
      format_flags_ |= kContext;
      return no_arg("context");
    }
    if (name == "cumulative") {
      q_.cumulative = true;
      return no_arg("cumulative");
    }
    if (name == "deselect") {
      q_.negate = true;
      return no_arg("deselect");
    }
    if (name == "forest") {
      forest_ = 'g';
      return no_arg("forest");
    }
    if (name == "format" || name == "sort") {
      auto v = arg();
      if (!v) {
        return invalid(name == "format" ? "format specification must follow --format"
                                        : "long sort specification must follow --sort");
      }
      sf_.push_back({name == "format" ? SfKind::Format : SfKind::Sort, *v});
      return {};
    }
    static constexpr const char* kNoHeaders[] = {"no-header",   "no-headers", "no-heading",
                                                 "no-headings", "noheader",   "noheaders",
                                                 "noheading",   "noheadings"};
    static constexpr const char* kHeaders[] = {"header", "headers", "heading", "headings"};
    bool none =
        std::find(std::begin(kNoHeaders), std::end(kNoHeaders), name) != std::end(kNoHeaders);
    bool multi = std::find(std::begin(kHeaders), std::end(kHeaders), name) != std::end(kHeaders);
    if (none || multi) {
      HULL_TRY(no_arg(name.c_str()));
      if (header_set_) return invalid("only one heading option may be specified");
      header_set_ = true;
      q_.headers = none ? PsHeaders::None : PsHeaders::EveryPage;
      return {};
    }
    if (name == "help") return unsupported(a, "ps's own help");
    if (name == "info") return exclusive(a, "ps's own build and debugging information");
    if (name == "version") return exclusive(a, "ps's own version");
    return invalid("unknown gnu long option");
  }

  // An option ps takes only alone (it prints something else than processes).
  Status exclusive(std::string_view opt, std::string_view what) const {
    if (args_.size() != 1) return invalid("the option is exclusive: " + std::string(opt));
    return unsupported(opt, what);
  }

  // procps's thread_option_check.
  Status threads() {
    unsigned t = thread_flags_;
    if (t == 0) return {};
    if (forest_) return invalid("thread display conflicts with forest display");
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
      q_.threads = PsThreads::WithProcess;
    } else if (t & kThreadsH) {
      q_.threads = PsThreads::AsProcesses;
    } else if (t & kThreadsL) {
      q_.threads = PsThreads::Lwp;
    } else {
      q_.threads = PsThreads::Spid;
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
      q_.sort.push_back(std::move(k));
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
    q_.sort.insert(q_.sort.end(), keys.begin(), keys.end());
    return true;
  }

  Status add_keys(std::initializer_list<const char*> keys) {
    for (const char* k : keys) HULL_TRY(parse_format(k, q_.columns));
    return {};
  }

  // procps's generate_sysv_list: the UNIX layouts, modifiers included.
  Status sysv_list() {
    bool f = format_flags_ & kUnixF, l = format_flags_ & kUnixL;
    if ((modifiers_ & kModY) && !l) return invalid("modifier -y without format -l makes no sense");
    bool y = modifiers_ & kModY, c = modifiers_ & kModC;
    std::vector<const char*> k;
    if (modifiers_ & kModM) k.push_back("label");
    if (l && !y) k.push_back("f");
    if (l) k.push_back("s");
    if (f) {
      k.push_back("uid_hack");
    } else if (l) {
      k.push_back("uid");
    }
    k.push_back("pid");
    if (thread_flags_ & kThreadsT) k.push_back("spid");
    if (f || l) k.push_back("ppid");
    if (modifiers_ & kModJ) {
      k.push_back("pgid");
      k.push_back("sid");
    }
    if (thread_flags_ & kThreadsL) k.push_back("lwp");
    if (modifiers_ & kModP) k.push_back("psr");
    if ((f || l) && !c) k.push_back("c");
    if ((thread_flags_ & kThreadsL) && f) k.push_back("nlwp");
    if (c) {
      k.push_back("class");
      k.push_back("pri");
    } else if (l) {
      k.push_back("opri");
      k.push_back("ni");
    }
    if (l) k.push_back(y ? "rss" : "addr_1");
    if ((modifiers_ & kModF) || l) k.push_back("sz");
    if (l) k.push_back("wchan");
    if (modifiers_ & kModF) {
      if (!(l && y)) k.push_back("rss");
      if (!(modifiers_ & kModP)) k.push_back("psr");
    }
    if (f) k.push_back("stime");
    k.push_back("tname");
    if (prefer_bsd_) {
      if (!l) k.push_back("stat");
      k.push_back("bsdtime");
      k.push_back(format_flags_ ? "cmd" : "args");
    } else {
      k.push_back("time");
      k.push_back(f ? "cmd" : "ucmd");
    }
    for (const char* key : k) HULL_TRY(parse_format(key, q_.columns));
    return {};
  }

  size_t find_header(std::string_view h) const {
    for (size_t i = 0; i < q_.columns.size(); ++i) {
      if (q_.columns[i].header == h) return i;
    }
    return std::string::npos;
  }
  bool add_after(std::string_view h, const char* key) {
    size_t at = find_header(h);
    if (at == std::string::npos) return false;
    std::vector<PsColumn> one;
    (void)parse_format(key, one);
    q_.columns.insert(q_.columns.begin() + static_cast<std::ptrdiff_t>(at) + 1, one.front());
    return true;
  }
  bool remove(std::string_view h) {
    size_t at = find_header(h);
    if (at == std::string::npos) return false;
    q_.columns.erase(q_.columns.begin() + static_cast<std::ptrdiff_t>(at));
    return true;
  }

  // procps's process_sf_options: user lists, else the layout the flags name.
  Status formats() {
    bool preloaded = false, listed = false;
    for (const auto& s : sf_) {
      if (s.kind == SfKind::Sort) {
        HULL_TRY(parse_sort(s.text));
      } else if (s.kind == SfKind::Format) {
        if (preloaded) return invalid("option -O can not follow other format options");
        listed = true;
        HULL_TRY(parse_format(s.text, q_.columns));
      } else {
        std::vector<PsColumn> user;
        Status st = parse_format(s.text, user);
        if (!st) {
          if (s.kind == SfKind::BsdPreloaded && parse_short_sort(s.text)) continue;
          return st;
        }
        if (listed || preloaded) return invalid("option -O can not follow other format options");
        preloaded = true;
        HULL_TRY(parse_format("pid", q_.columns));
        q_.columns.insert(q_.columns.end(), user.begin(), user.end());
        HULL_TRY(parse_format(s.kind == SfKind::UnixPreloaded ? "state,tname,time,command"
                                                              : "state,tname,cputime,comm",
                              q_.columns));
      }
    }
    if (!q_.columns.empty()) {
      if (format_flags_) return invalid("conflicting format options");
      if (modifiers_) return invalid("can not use output modifiers with user-defined output");
      if (must_use_) return invalid("-L/-T with H/m/-m and -o/-O/o/O is nonsense");
      return {};
    }
    const char* spec = nullptr;
    switch (format_flags_) {
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
    HULL_TRY(parse_format(spec, q_.columns));
    // The modifiers on a BSD layout.
    if (modifiers_ & kModJ) {
      if (!add_after("PPID", "pgid")) (void)add_after("PID", "pgid");
      if (!add_after("PGID", "sid")) return invalid("lost my PGID");
    }
    if (modifiers_ & kModY) {
      (void)remove("F");
      if (add_after("ADDR", "rss")) (void)remove("ADDR");
    }
    if (modifiers_ & kModC) {
      for (const char* h : {"%CPU", "CPU", "CP", "C", "NI"}) (void)remove(h);
      if (add_after("PRI", "class")) {
        (void)remove("PRI");
        (void)add_after("CLS", "pri");
      }
    }
    if (thread_flags_ & kThreadsT) {
      if (!add_after("PID", "spid") && must_use_) {
        return invalid("-T with H/-m/m but no PID for SPID to follow");
      }
    }
    if (thread_flags_ & kThreadsL) {
      bool placed = false;
      for (const char* h : {"SID", "SESS", "PGID", "PGRP", "PPID", "PID"}) {
        if ((placed = add_after(h, "lwp"))) break;
      }
      if (!placed && must_use_) {
        return invalid("-L with H/-m/m but no PID/PGID/SID/SESS for NLWP to follow");
      }
      (void)add_after("%CPU", "nlwp");
    }
    if (modifiers_ & kModM) {
      std::vector<PsColumn> label;
      HULL_TRY(parse_format("label", label));
      q_.columns.insert(q_.columns.begin(), label.front());
    }
    return {};
  }

  // procps's select_bits_setup: a table of which (own euid, session leader,
  // no tty, own tty) combinations the simple selections take.
  Status selection() {
    if (forest_ == 'u') {
      q_.forest = PsForest::Indent;
    } else if (forest_) {
      q_.forest = PsForest::Ascii;
    }
    if (simple_ != 0) {
      unsigned v = (simple_ & (kSelUnixA | kSelUnixD)) ? simple_ : simple_ | kSelBsdG;
      switch (v) {
        case kSelUnixA | kSelUnixD:
          q_.simple = 0x3f3f;
          break;
        case kSelUnixA:
          q_.simple = 0x0303;
          break;
        case kSelUnixD:
          q_.simple = 0x3333;
          break;
        case kSelBsdG:
          q_.simple = 0x0a0a;
          break;
        case kSelBsdG | kSelBsdA:
          q_.simple = 0x0f0f;
          break;
        case kSelBsdG | kSelBsdX:
          q_.simple = 0xaaaa;
          break;
        case kSelBsdG | kSelBsdX | kSelBsdA:
          q_.all = true;
          break;
        default:
          return invalid("process selection options conflict");
      }
    }
    // hull's difference: no selection at all lists every process of the
    // container (ps would list the caller's own on its terminal: none).
    if (!q_.all && q_.simple == 0 && q_.lists.empty() && !q_.own_terminal) q_.all = true;
    return {};
  }

  const std::vector<std::string>& args_;
  const PsNames& names_;
  bool force_bsd_;
  size_t i_ = 0;
  PsQuery q_;
  unsigned format_flags_ = 0, modifiers_ = 0, thread_flags_ = 0, simple_ = 0;
  bool prefer_bsd_ = false, must_use_ = false, header_set_ = false;
  char forest_ = 0;
  std::vector<SfSpec> sf_;
};

}  // namespace

Result<PsQuery> parse_ps_args(const std::vector<std::string>& args, const PsNames& names) {
  auto unix_first = Parser(args, names, false).run();
  if (unix_first || unix_first.error().code == Errc::Unsupported) return unix_first;
  // As procps does: a command line that is not UNIX is tried as BSD, and
  // when that fails too the UNIX parse's error is the one reported.
  auto bsd = Parser(args, names, true).run();
  if (bsd || bsd.error().code == Errc::Unsupported) return bsd;
  return unix_first;
}

}  // namespace hull::cli
