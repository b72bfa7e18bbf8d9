// hull ps: the container's processes as its guest sees them. The pids are
// guest pids (see docs/differences-from-runc.md); --format json prints them
// as runc does, a JSON array of pids.
#include <cstdio>

#include "runtime/cli/command.h"

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
  if (!o.ps_args.empty()) {
    return report_error(Error{Errc::Unsupported, 0,
                              "hull ps: ps(1) options are not supported: the processes run in "
                              "the container's VM, not on this host"});
  }
  auto ps = container::processes(context_of(g), o.id);
  if (!ps) return report_error(ps.error());
  if (o.format == "json") {
    nlohmann::json pids = nlohmann::json::array();
    for (const auto& p : *ps) pids.push_back(p.pid);
    std::printf("%s\n", pids.dump().c_str());
    return 0;
  }
  std::printf("UID        PID  PPID  C STIME TTY          TIME CMD\n");
  for (const auto& p : *ps) {
    std::string cmd;
    for (const auto& a : p.args) cmd += (cmd.empty() ? "" : " ") + a;
    if (cmd.empty()) cmd = "[" + p.comm + "]";
    std::string uid = p.uid == 0 ? "root" : std::to_string(p.uid);
    std::printf("%-8s %5d %5d  0 -     ?        -        %s\n", uid.c_str(), p.pid, p.ppid,
                cmd.c_str());
  }
  return 0;
}

}  // namespace

Command ps_command() {
  return {"ps", "ps displays the processes running inside a container",
          [](CLI::App& sub) -> Action {
            auto o = std::make_shared<PsOptions>();
            sub.add_option("id", o->id, "the container's id")->required();
            sub.add_option("ps-args", o->ps_args, "ps(1) options (unsupported)");
            sub.add_option("-f,--format", o->format,
                           "select one of: table or json (default: \"table\")");
            return [o](const GlobalOptions& g) { return run_ps(g, *o); };
          }};
}

}  // namespace hull::cli
