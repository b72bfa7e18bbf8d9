// hull events: runc's event stream for one container. --stats prints one
// "stats" event and exits; otherwise a "stats" event every --interval until
// the container stops (or the caller stops us). Events are one JSON object per
// line, in runc's shapes.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "runtime/cli/command.h"

namespace hull::cli {
namespace {

struct EventsOptions {
  std::string id;
  std::string interval = "5s";
  bool stats = false;
};

// Go durations as runc takes them: "5s", "500ms", "1m", "1m30s".
Result<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::chrono::milliseconds total{0};
  size_t i = 0;
  auto bad = [&] {
    return fail(Errc::Invalid,
                "invalid --interval \"" + text + "\": use a duration like 5s or 500ms");
  };
  if (text.empty()) return bad();
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
      ++j;
    if (j == i) return bad();
    double v = std::stod(text.substr(i, j - i));
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    std::string unit = text.substr(j, k - j);
    double ms = 0;
    if (unit == "ms") {
      ms = v;
    } else if (unit == "s") {
      ms = v * 1000;
    } else if (unit == "m") {
      ms = v * 60000;
    } else if (unit == "h") {
      ms = v * 3600000;
    } else {
      return bad();
    }
    total += std::chrono::milliseconds(static_cast<int64_t>(ms));
    i = k;
  }
  if (total.count() <= 0) return bad();
  return total;
}

int run_events(const GlobalOptions& g, const EventsOptions& o) {
  auto ctx = context_of(g);
  auto interval = parse_duration(o.interval);
  if (!interval) return report_error(interval.error());
  for (;;) {
    auto ev = container::stats_event(ctx, o.id);
    if (!ev) {
      // The container ending ends the stream, as with runc.
      if (!o.stats && ev.error().code == Errc::NotRunning) return 0;
      return report_error(ev.error());
    }
    std::printf("%s\n", ev->dump().c_str());
    std::fflush(stdout);
    if (o.stats) return 0;
    std::this_thread::sleep_for(*interval);
  }
}

}  // namespace

Command events_command() {
  return {
      "events",
      "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
      [](CLI::App& sub) -> Action {
        auto o = std::make_shared<EventsOptions>();
        sub.add_option("id", o->id, "the container's id")->required();
        sub.add_option("--interval", o->interval,
                       "set the stats collection interval (default: 5s)");
        sub.add_flag("--stats", o->stats, "display the container's stats then exit");
        return [o](const GlobalOptions& g) { return run_events(g, *o); };
      }};
}

}  // namespace hull::cli
