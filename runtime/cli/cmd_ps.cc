// hull ps: the container's processes as its guest sees them, laid out as
// ps(1) would for the options given (ps_format.h; runc's default is -ef). The
// pids are guest pids (see docs/differences-from-runc.md); --format json
// prints them as runc does, a JSON array of pids.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "common/log.h"
#include "runtime/cli/command.h"
#include "runtime/cli/ps_format.h"

namespace hull::cli {
namespace {

struct PsOptions {
  std::string id;
  std::string format = "table";
  std::vector<std::string> ps_args;
};

// The caller's screen, as ps(1) finds it: $COLUMNS/$LINES, else the
// terminal on stdout; no terminal: lines are not cut.
void screen_size(PsContext& ctx) {
  winsize ws{};
  bool tty = ::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0;
  if (tty && ws.ws_col > 0) ctx.screen_cols = ws.ws_col;
  if (tty && ws.ws_row > 0) ctx.screen_rows = ws.ws_row;
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0) {
    ctx.screen_cols = static_cast<size_t>(std::atoi(c));
  }
  if (const char* l = std::getenv("LINES"); l && std::atoi(l) > 0) {
    ctx.screen_rows = static_cast<size_t>(std::atoi(l));
  }
}

int run_ps(const GlobalOptions& g, const PsOptions& o) {
  if (o.format != "table" && o.format != "json") {
    return report_error(Error{Errc::Invalid, 0, "invalid format option"});
  }
  auto list = container::process_list(context_of(g), o.id);
  if (!list) return report_error(list.error());
  if (o.format == "json") {  // the pids only, ps options aside (as runc)
    nlohmann::json pids = nlohmann::json::array();
    for (const auto& p : list->processes) pids.push_back(p.pid);
    std::printf("%s\n", pids.dump().c_str());
    return 0;
  }
  PsNames names{list->user_ids, list->group_ids};
  auto q = parse_ps_args(o.ps_args, names);
  if (!q) return report_error(q.error());
  if (list->truncated) {
    log::warn("container " + o.id +
              ": the guest left some environments and thread lists out of its answer (too "
              "many processes for one reply)");
  }
  PsContext ctx;
  ctx.now = std::time(nullptr);
  ctx.euid = ::geteuid();
  screen_size(ctx);
  std::fputs(format_ps(*q, *list, ctx).c_str(), stdout);
  return 0;
}

}  // namespace

void end_ps_flags(std::vector<std::string>& args) {
  end_flags_at_id(args, "ps", {"-f", "--format"});
}

Command ps_command() {
  return {"ps", "ps displays the processes running inside a container",
          [](CLI::App& sub) -> Action {
            auto o = std::make_shared<PsOptions>();
            sub.add_option("id", o->id, "the container's id")->required();
            sub.add_option("ps-args", o->ps_args, "ps(1) options, e.g. -e -o pid,comm");
            sub.add_option("-f,--format", o->format,
                           "select one of: table or json (default: \"table\")");
            return [o](const GlobalOptions& g) { return run_ps(g, *o); };
          }};
}

}  // namespace hull::cli
