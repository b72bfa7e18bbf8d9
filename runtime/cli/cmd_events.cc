// hull events: runc's event stream for one container. --stats prints one
// "stats" event and exits; otherwise a "stats" event every --interval and an
// {"type":"oom","id":...} event for each OOM kill in the container's cgroup
// (the agent's OomEvents stream), until the container stops (or the caller
// stops us). Events are one JSON object per line, in runc's shapes.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/log.h"
#include "runtime/cli/command.h"
#include "runtime/container/container.h"

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

// One event per line; the stats loop and the OOM reader share stdout.
class EventPrinter {
 public:
  void print(const nlohmann::ordered_json& ev) {
    std::lock_guard lk(mu_);
    std::string line = ev.dump() + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }

 private:
  std::mutex mu_;
};

// The container's OOM kills as runc's "oom" events, from the agent's
// OomEvents stream, on a thread of its own until the stream ends (the VM
// stops) or the watcher is destroyed.
class OomWatcher {
 public:
  static Result<std::unique_ptr<OomWatcher>> start(const container::Context& ctx,
                                                   const std::string& id, EventPrinter& out) {
    std::unique_ptr<OomWatcher> w(new OomWatcher());
    HULL_ASSIGN(events, container::oom_events(ctx, id));
    w->reader_ = std::move(events);
    w->thread_ = std::thread([w = w.get(), id, &out] {
      Result<std::optional<std::string>> next;
      for (;;) {
        next = w->reader_->next();
        if (!next || !*next) break;
        if (**next == id) out.print({{"type", "oom"}, {"id", id}});
      }
      // The agent ended the stream, or the connection went: the VM is going.
      // Any other error (an agent without OomEvents) leaves the stats going.
      if (next || next.error().code == Errc::NotRunning) {
        std::lock_guard lk(w->mu_);
        w->ended_ = true;
        w->cv_.notify_all();
      } else {
        log::warn("container " + id + ": no OOM events: " + next.error().what());
      }
    });
    return w;
  }

  ~OomWatcher() {
    if (thread_.joinable()) {
      reader_->cancel();
      thread_.join();
    }
  }

  // Sleeps for `d`, or less once the stream has ended. Returns whether it
  // has: the agent ends it only when the VM goes away with the container.
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, d, [&] { return ended_; });
  }

 private:
  OomWatcher() = default;
  std::unique_ptr<container::OomEvents> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ended_ = false;
};

int run_events(const GlobalOptions& g, const EventsOptions& o) {
  auto ctx = context_of(g);
  auto interval = parse_duration(o.interval);
  if (!interval) return report_error(interval.error());
  EventPrinter out;
  std::unique_ptr<OomWatcher> oom;
  if (!o.stats) {
    auto w = OomWatcher::start(ctx, o.id, out);
    if (!w) {
      // The container ending ends the stream, as with runc.
      if (w.error().code == Errc::NotRunning) return 0;
      return report_error(w.error());
    }
    oom = std::move(*w);
  }
  for (;;) {
    auto ev = container::stats_event(ctx, o.id);
    if (!ev) {
      if (!o.stats && ev.error().code == Errc::NotRunning) return 0;
      return report_error(ev.error());
    }
    out.print(*ev);
    if (o.stats) return 0;
    if (oom->sleep_for(*interval)) return 0;
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
