// FakeContainerClient: sandbox::ContainerClient in memory, the one fake of the
// host's seam to the agent (runtime/sandbox/container_client.h).
//
// Every call is recorded, in order, as "<method> <id>[/<exec_id>][ <args>]"
// (e.g. "create c1", "signal c1/ 9 all", "remove c1"); `on_call`, when set,
// sees each record as it is made, so a test can interleave it with the other
// steps it watches. `failures` makes a method fail with the given error.
//
// Its processes behave like `cat`: stdin comes back on stdout, and
// "err:<text>" lines go to stderr instead. close_stdin ends the process with
// `exit_on_eof`; a signal in `fatal_signals` ends it killed by that signal.
// One process is modelled (the relay tests drive one at a time).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
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
  void end(ExitStatus s) {
    std::lock_guard l(mu_);
    exit_ = s;
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
  Result<ExitStatus> wait(const std::string&, const std::string&, milliseconds) override {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return exit_.has_value(); });
    return *exit_;
  }
  Status write_stdin(const std::string&, const std::string&, std::span<const char> data,
                     milliseconds) override {
    std::lock_guard l(mu_);
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
  Status close_stdin(const std::string&, const std::string&, milliseconds) override {
    std::lock_guard l(mu_);
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
                     milliseconds) override {
    std::unique_lock l(mu_);
    auto& q = s == OutputStream::Stdout ? out_ : err_;
    for (;;) {
      cv_.wait(l, [&] { return !q.empty() || exit_.has_value(); });
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

 private:
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
};

}  // namespace hull::testing
