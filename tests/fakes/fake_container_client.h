// FakeContainerClient: sandbox::ContainerClient in memory, the one fake of the
// host's seam to the agent (runtime/sandbox/container_client.h).
//
// Every call is recorded, in order, as "<method> <id>[/<exec_id>][ <args>]"
// (e.g. "create c1", "signal c1/ 9 all", "remove c1"); `on_call`, when set,
// sees each record as it is made, so a test can interleave it with the other
// steps it watches. `failures` makes a method fail with the given error.
//
// Its processes behave like `cat`: stdin comes back on stdout, and
// "err:<text>" lines go to stderr instead; output() adds output of the
// test's own. close_stdin ends the process with `exit_on_eof`; a signal in
// `fatal_signals` ends it killed by that signal. An output stream ends once
// the process has ended and all of it is read, `output_delay` after it is
// opened at the earliest; with `hold_output` it stays open until cancelled
// (a child that keeps the pipe). A Canceller ends the calls that block as
// the real client's does (cancelled_error). `failures["wait"]` makes wait
// fail once the process has ended, `failures["oom_events"]` the stream's
// opening (neither is recorded). OOM kills are added with oom(); every
// stream sees all of them, and ends after them once end_oom() was called.
// One process is modelled (the relay tests drive one at a time).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "runtime/sandbox/container_client.h"

namespace hull::testing {

class FakeContainerClient final : public sandbox::ContainerClient {
 public:
  using milliseconds = std::chrono::milliseconds;
  using StdioMode = sandbox::StdioMode;
  using OutputStream = sandbox::OutputStream;

  int exit_on_eof = 0;
  std::set<int> fatal_signals;
  std::map<std::string, Error> failures;  // method name -> its error
  std::function<void(const std::string&)> on_call;
  std::vector<agent::ProcessInfo> processes;
  sandbox::ProcessListExtras process_extras;
  agent::CgroupStats cgroup_stats;
  milliseconds output_delay{0};
  bool hold_output = false;

  // Observations.
  std::vector<std::string> calls() {
    std::lock_guard l(mu_);
    return calls_;
  }
  std::vector<int> signals() {
    std::lock_guard l(mu_);
    return signals_;
  }
  std::vector<std::pair<uint32_t, uint32_t>> resizes() {
    std::lock_guard l(mu_);
    return resizes_;
  }
  std::string stdin_data() {
    std::lock_guard l(mu_);
    return stdin_all_;
  }
  // Waits up to `timeout` for close_stdin.
  bool wait_stdin_closed(milliseconds timeout) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, timeout, [&] { return stdin_closed_; });
  }
  void end(ExitStatus s) {
    std::lock_guard l(mu_);
    exit_ = s;
    cv_.notify_all();
  }
  void output(OutputStream s, std::string chunk) {
    std::lock_guard l(mu_);
    (s == OutputStream::Stdout ? out_ : err_).push_back(std::move(chunk));
    cv_.notify_all();
  }
  void oom(std::string id) {
    std::lock_guard l(mu_);
    oom_ids_.push_back(std::move(id));
    cv_.notify_all();
  }
  void end_oom() {
    std::lock_guard l(mu_);
    oom_ended_ = true;
    cv_.notify_all();
  }

  Status create(const std::string& id, std::string_view, StdioMode stdio, std::string_view,
                milliseconds) override {
    return record("create", id, "", stdio.terminal ? "tty" : "");
  }
  Status start(const std::string& id, milliseconds) override { return record("start", id); }
  Status remove(const std::string& id, uint32_t grace_s, milliseconds) override {
    return record("remove", id, "", grace_s ? std::to_string(grace_s) : "");
  }
  Status exec(const std::string& id, const std::string& exec_id, std::string_view, StdioMode,
              milliseconds, std::string_view) override {
    return record("exec", id, exec_id);
  }
  Status signal(const std::string& id, const std::string& exec_id, int sig, bool all,
                milliseconds) override {
    HULL_TRY(record("signal", id, exec_id, std::to_string(sig) + (all ? " all" : "")));
    std::lock_guard l(mu_);
    signals_.push_back(sig);
    if (fatal_signals.contains(sig) && !exit_) {
      exit_ = ExitStatus{128 + sig, true, sig};
      cv_.notify_all();
    }
    return {};
  }
  Result<ExitStatus> wait(const std::string&, const std::string&, milliseconds,
                          sandbox::Canceller* cancel) override {
    sandbox::CancelScope scope(cancel, [this] { wake(); });  // before mu_ (cancel.h)
    if (!scope) return hull::fail(sandbox::cancelled_error("WaitProcess"));
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return exit_.has_value() || cancelled(cancel); });
    if (!exit_) return hull::fail(sandbox::cancelled_error("WaitProcess"));
    if (auto it = failures.find("wait"); it != failures.end()) return hull::fail(it->second);
    return *exit_;
  }
  Status write_stdin(const std::string&, const std::string&, std::span<const char> data,
                     milliseconds, sandbox::Canceller* cancel) override {
    if (cancelled(cancel)) return hull::fail(sandbox::cancelled_error("WriteStdin"));
    std::lock_guard l(mu_);
    stdin_all_.append(data.data(), data.size());
    in_.append(data.data(), data.size());
    size_t nl;
    while ((nl = in_.find('\n')) != std::string::npos) {
      std::string line = in_.substr(0, nl + 1);
      in_.erase(0, nl + 1);
      if (line.starts_with("err:")) {
        err_.push_back(line.substr(4));
      } else {
        out_.push_back(line);
      }
    }
    cv_.notify_all();
    return {};
  }
  Status close_stdin(const std::string&, const std::string&, milliseconds,
                     sandbox::Canceller* cancel) override {
    if (cancelled(cancel)) return hull::fail(sandbox::cancelled_error("CloseStdin"));
    std::lock_guard l(mu_);
    stdin_closed_ = true;
    if (!exit_) exit_ = ExitStatus{exit_on_eof, false, 0};
    cv_.notify_all();
    return {};
  }
  Status resize_tty(const std::string&, const std::string&, uint16_t rows, uint16_t cols,
                    milliseconds) override {
    std::lock_guard l(mu_);
    resizes_.emplace_back(rows, cols);
    return {};
  }
  Status read_output(const std::string&, const std::string&, OutputStream s, const Sink& sink,
                     milliseconds, sandbox::Canceller* cancel) override {
    const char* call = s == OutputStream::Stdout ? "ReadStdout" : "ReadStderr";
    sandbox::CancelScope scope(cancel, [this] { wake(); });  // before mu_ (cancel.h)
    if (!scope) return hull::fail(sandbox::cancelled_error(call));
    std::unique_lock l(mu_);
    if (cv_.wait_for(l, output_delay, [&] { return cancelled(cancel); })) {
      return hull::fail(sandbox::cancelled_error(call));
    }
    auto& q = s == OutputStream::Stdout ? out_ : err_;
    for (;;) {
      cv_.wait(l, [&] {
        return !q.empty() || (exit_.has_value() && !hold_output) || cancelled(cancel);
      });
      if (cancelled(cancel)) return hull::fail(sandbox::cancelled_error(call));
      if (q.empty()) return {};  // EOF once the process ended and all is read
      std::string chunk = q.front();
      q.pop_front();
      l.unlock();
      Status st = sink(chunk);
      l.lock();
      if (!st) return st;
    }
  }
  Result<std::vector<agent::ProcessInfo>> list_processes(
      const std::string& id, milliseconds, sandbox::ProcessListExtras* extras) override {
    HULL_TRY(record("list_processes", id));
    if (extras) *extras = process_extras;
    return processes;
  }
  Result<agent::CgroupStats> stats(const std::string& id, milliseconds) override {
    HULL_TRY(record("stats", id));
    return cgroup_stats;
  }
  Status pause(const std::string& id, milliseconds) override { return record("pause", id); }
  Status resume(const std::string& id, milliseconds) override { return record("resume", id); }
  Status update(const std::string& id, std::string_view, milliseconds) override {
    return record("update", id);
  }
  Result<std::unique_ptr<sandbox::OomEventReader>> oom_events(milliseconds) override {
    if (auto it = failures.find("oom_events"); it != failures.end()) return hull::fail(it->second);
    return std::make_unique<OomReader>(*this);
  }

 private:
  // Reads oom_ids_ from the start; must not outlive the fake.
  class OomReader final : public sandbox::OomEventReader {
   public:
    explicit OomReader(FakeContainerClient& c) : c_(c) {}
    Result<std::optional<std::string>> next() override {
      std::unique_lock l(c_.mu_);
      c_.cv_.wait(l, [&] { return next_ < c_.oom_ids_.size() || c_.oom_ended_ || cancelled_; });
      if (next_ < c_.oom_ids_.size()) return std::optional<std::string>(c_.oom_ids_[next_++]);
      if (c_.oom_ended_) return std::optional<std::string>();
      return hull::fail(sandbox::cancelled_error("OomEvents"));
    }
    void cancel() override {
      std::lock_guard l(c_.mu_);
      cancelled_ = true;
      c_.cv_.notify_all();
    }

   private:
    FakeContainerClient& c_;
    size_t next_ = 0;         // guarded by c_.mu_
    bool cancelled_ = false;  // guarded by c_.mu_
  };

  static bool cancelled(const sandbox::Canceller* c) { return c && c->cancelled(); }
  // A Canceller's hook: wakes the calls waiting on cv_ (they see cancelled()).
  void wake() {
    std::lock_guard l(mu_);
    cv_.notify_all();
  }

  Status record(const std::string& method, const std::string& id, const std::string& exec_id = "",
                const std::string& args = "") {
    std::string line = method + " " + id;
    if (method == "signal" || !exec_id.empty()) line += "/" + exec_id;
    if (!args.empty()) line += " " + args;
    std::function<void(const std::string&)> hook;
    {
      std::lock_guard l(mu_);
      calls_.push_back(line);
      hook = on_call;
    }
    if (hook) hook(line);
    if (auto it = failures.find(method); it != failures.end()) return hull::fail(it->second);
    return {};
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::string in_;
  std::deque<std::string> out_, err_;
  std::vector<std::string> calls_;
  std::vector<int> signals_;
  std::vector<std::pair<uint32_t, uint32_t>> resizes_;
  std::optional<ExitStatus> exit_;
  std::string stdin_all_;
  bool stdin_closed_ = false;
  std::vector<std::string> oom_ids_;
  bool oom_ended_ = false;
};

}  // namespace hull::testing
