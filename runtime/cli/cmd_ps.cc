// hull ps: the container's processes as its guest sees them, laid out as
// ps(1) would for the options given (ps_format.h; runc's default is -ef). The
// pids are guest pids (see docs/differences-from-runc.md); --format json
// prints them as runc does, a JSON array of pids.
#include <cstdio>
#include <ctime>
#include <optional>

#include "runtime/cli/command.h"
#include "runtime/cli/ps_format.h"

namespace hull::cli {
namespace {

struct PsOptions {
  std::string id;
  std::string format = "table";
  std::vector<std::string> ps_args;
};

int run_ps(const GlobalOptions& g, const PsOptions& o) {
  if (o.format != "table" && o.format != "json") {
    return report_error(Error{Errc::Invalid, 0, "invalid format option"});
  }
  std::optional<PsQuery> query;
  if (o.format == "table") {  // json: the pids only, ps options aside (as runc)
    auto q = parse_ps_args(o.ps_args);
    if (!q) return report_error(q.error());
    query = std::move(*q);
  }
  auto ps = container::processes(context_of(g), o.id);
  if (!ps) return report_error(ps.error());
  if (o.format == "json") {
    nlohmann::json pids = nlohmann::json::array();
    for (const auto& p : *ps) pids.push_back(p.pid);
    std::printf("%s\n", pids.dump().c_str());
    return 0;
  }
  std::fputs(format_ps(*query, *ps, std::time(nullptr)).c_str(), stdout);
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
