// hull kill: sends a signal (default SIGTERM; a name with or without SIG, or
// a number) to the container's init in the guest, or with --all to all of
// its processes.
#include "runtime/cli/command.h"
#include "runtime/container/signals.h"

namespace hull::cli {
namespace {

struct KillOptions {
  std::string id;
  std::string signal = "SIGTERM";
  bool all = false;
};

int run_kill(const GlobalOptions& g, const KillOptions& o) {
  auto sig = container::parse_signal(o.signal);
  if (!sig) return report_error(sig.error());
  if (auto st = container::kill(context_of(g), o.id, *sig, o.all); !st) {
    return report_error(st.error());
  }
  return 0;
}

}  // namespace

Command kill_command() {
  return {"kill",
          "kill sends the specified signal (default: SIGTERM) to the container's init process",
          [](CLI::App& sub) -> Action {
            auto o = std::make_shared<KillOptions>();
            sub.add_option("id", o->id, "the container's id")->required();
            sub.add_option("signal", o->signal, "signal name or number (default SIGTERM)");
            sub.add_flag("-a,--all", o->all,
                         "send the specified signal to all processes inside the container");
            return [o](const GlobalOptions& g) { return run_kill(g, *o); };
          }};
}

}  // namespace hull::cli
