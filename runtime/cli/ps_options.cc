// parse_ps_args: ps(1)'s command line as procps-ng parses it (ps_format.h);
// the layout it asks for is built by ps_layout.cc.
#include <cctype>
#include <charconv>

#include "runtime/cli/ps_format.h"
#include "runtime/cli/ps_options.h"

namespace hull::cli {
namespace {

using namespace ps;  // the option flags, invalid() and split_list()

std::unexpected<Error> unsupported(std::string_view opt, std::string_view what) {
  return fail(Errc::Unsupported,
              "ps option \"" + std::string(opt) + "\" is not supported by hull ps: it prints " +
                  std::string(what) + ", not the container's processes (run ps on the host)");
}

class Parser {
 public:
  Parser(const std::vector<std::string>& args, const PsNames& names, bool force_bsd)
      : args_(args), names_(names), force_bsd_(force_bsd) {}

  Result<PsQuery> run() {
    if (args_.empty()) {  // runc's default: ps -ef
      o_.q.all = true;
      o_.format_flags = kUnixF;
      o_.q.full = true;
    }
    for (i_ = 0; i_ < args_.size(); ++i_) HULL_TRY(one(args_[i_]));
    return finish_ps_query(std::move(o_));
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
      o_.prefer_bsd = true;
      return bsd(a, 0);
    }
    if (std::isdigit(static_cast<unsigned char>(c0))) {
      o_.prefer_bsd = true;
      return add_list(PsSelector::Kind::Pid, a, &Parser::pid_item);
    }
    if (c0 == '+' && a.size() > 1) {
      o_.prefer_bsd = true;
      return add_list(PsSelector::Kind::Session, a.substr(1), &Parser::pid_item);
    }
    if (c0 != '-' || a.size() < 2) return invalid("garbage option");
    char c1 = a[1];
    if (std::isdigit(static_cast<unsigned char>(c1))) {
      o_.prefer_bsd = true;
      return add_list(PsSelector::Kind::Pgrp, a.substr(1), &Parser::pid_item);
    }
    if (!std::isalpha(static_cast<unsigned char>(c1))) return invalid("garbage option");
    if (force_bsd_) {
      o_.prefer_bsd = true;
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
    o_.q.lists.push_back(std::move(sel));
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
          o_.q.all = true;
          break;
        case 'a':
          o_.simple |= kSelUnixA;
          break;
        case 'd':
          o_.simple |= kSelUnixD;
          break;
        case 'C':
          return list_option(a, k, K::Command, &Parser::text_item,
                             "list of command names must follow -C");
        case 'F':
          o_.modifiers |= kModF;
          o_.format_flags |= kUnixF;
          o_.q.full = true;
          break;
        case 'G':
          return list_option(a, k, K::Rgid, &Parser::gid_item,
                             "list of real groups must follow -G");
        case 'H':
          o_.forest = 'u';
          break;
        case 'L':
          o_.thread_flags |= kThreadsL;
          break;
        case 'M':
        case 'Z':
          o_.modifiers |= kModM;
          break;
        case 'N':
          o_.q.negate = true;
          break;
        case 'O': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("format or sort specification must follow -O");
          o_.sf.push_back({SfKind::UnixPreloaded, *arg});
          return {};
        }
        case 'P':
          o_.modifiers |= kModP;
          break;
        case 'T':
          o_.thread_flags |= kThreadsT;
          break;
        case 'U':
          return list_option(a, k, K::Ruid, &Parser::uid_item, "list of real users must follow -U");
        case 'V':
          return exclusive("-V", "ps's own version");
        case 'c':
          o_.modifiers |= kModC;
          break;
        case 'f':
          o_.format_flags |= kUnixF;
          o_.q.full = true;
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
          o_.modifiers |= kModJ;
          break;
        case 'l':
          o_.format_flags |= kUnixL;
          break;
        case 'm':
          o_.thread_flags |= kThreadsUnixM;
          break;
        case 'n':  // the System.map file ps once read WCHAN names from
          if (!opt_arg(a, k)) return invalid("alternate System.map file must follow -n");
          return {};
        case 'o': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("format specification must follow -o");
          o_.sf.push_back({SfKind::Format, *arg});
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
          ++o_.q.wide;
          break;
        case 'x':
          return invalid("must set personality to get -x option");
        case 'y':
          o_.modifiers |= kModY;
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
          o_.thread_flags |= kThreadsH;
          break;
        case 'L':
          return exclusive("L", "ps's list of format keywords");
        case 'M':
          o_.thread_flags |= kThreadsBsdM;
          break;
        case 'N':
          if (!opt_arg(a, k)) return invalid("alternate System.map file must follow N");
          return {};
        case 'O': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("format or sort specification must follow O");
          o_.sf.push_back({SfKind::BsdPreloaded, *arg});
          return {};
        }
        case 'S':
          o_.q.cumulative = true;
          break;
        case 'T':
          o_.q.own_terminal = true;
          break;
        case 'U':
          return list_option(a, k, K::Euid, &Parser::uid_item, "list of users must follow U");
        case 'V':
          return exclusive("V", "ps's own version");
        case 'W':
          return invalid("obsolete W option not supported (you have a /dev/drum?)");
        case 'X':
          o_.format_flags |= kLinuxX;
          break;
        case 'Z':
          o_.modifiers |= kModM;
          break;
        case 'a':
          o_.simple |= kSelBsdA;
          break;
        case 'c':
          o_.q.command_name = true;
          break;
        case 'e':
          o_.q.environment = true;
          break;
        case 'f':
          o_.forest = 'b';
          break;
        case 'g':
          o_.simple |= kSelBsdG;
          break;
        case 'h':
          if (header_set_) return invalid("only one heading option may be specified");
          header_set_ = true;
          o_.q.headers = PsHeaders::None;
          break;
        case 'j':
          o_.format_flags |= kBsdJ;
          break;
        case 'k': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("long sort specification must follow 'k'");
          o_.sf.push_back({SfKind::Sort, *arg});
          return {};
        }
        case 'l':
          o_.format_flags |= kBsdL;
          break;
        case 'm':
          if (force_bsd_) {
            o_.format_flags |= kLinuxM;  // procps's old Linux m: the memory layout
          } else {
            o_.thread_flags |= kThreadsBsdM;
          }
          break;
        case 'n':
          o_.q.numeric = true;
          break;
        case 'o': {
          auto arg = opt_arg(a, k);
          if (!arg) return invalid("format specification must follow o");
          o_.sf.push_back({SfKind::Format, *arg});
          return {};
        }
        case 'p':
          return list_option(a, k, K::Pid, &Parser::pid_item, "list of process IDs must follow p");
        case 'q':
          return list_option(a, k, K::Pid, &Parser::pid_item, "list of process IDs must follow q");
        case 'r':
          o_.q.running_only = true;
          break;
        case 's':
          o_.format_flags |= kBsdS;
          break;
        case 't': {
          auto arg = opt_arg(a, k);
          if (!arg) {  // the caller's own terminal
            o_.q.own_terminal = true;
            return {};
          }
          return add_list(K::Tty, *arg, &Parser::tty_item);
        }
        case 'u':
          o_.format_flags |= kBsdU;
          break;
        case 'v':
          o_.format_flags |= kBsdV;
          break;
        case 'w':
          ++o_.q.wide;
          break;
        case 'x':
          o_.simple |= kSelBsdX;
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
      return number(&o_.q.cols, "number of columns must follow --cols, --width, or --columns");
    }
    if (name == "rows" || name == "lines") {
      return number(&o_.q.rows, "number of rows must follow --rows or --lines");
    }
    if (name == "context") {
      o_.format_flags |= kContext;
      return no_arg("context");
    }
    if (name == "cumulative") {
      o_.q.cumulative = true;
      return no_arg("cumulative");
    }
    if (name == "deselect") {
      o_.q.negate = true;
      return no_arg("deselect");
    }
    if (name == "forest") {
      o_.forest = 'g';
      return no_arg("forest");
    }
    if (name == "format" || name == "sort") {
      auto v = arg();
      if (!v) {
        return invalid(name == "format" ? "format specification must follow --format"
                                        : "long sort specification must follow --sort");
      }
      o_.sf.push_back({name == "format" ? SfKind::Format : SfKind::Sort, *v});
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
      o_.q.headers = none ? PsHeaders::None : PsHeaders::EveryPage;
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

  const std::vector<std::string>& args_;
  const PsNames& names_;
  bool force_bsd_;
  size_t i_ = 0;
  PsOptions o_;
  bool header_set_ = false;
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
