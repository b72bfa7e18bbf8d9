// FakeGuest: hull::container::Guest in memory, for the monitor's relay tests.
// Its one process behaves like `cat`: stdin comes back on stdout, and
// "err:<text>" lines go to stderr instead. close_stdin ends it with
// `exit_on_eof`; a signal in `fatal_signals` ends it killed by that signal.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "runtime/container/guest.h"

namespace hull::testing {

class FakeGuest final : public container::Guest {
 public:
  using ProcessRef = container::ProcessRef;
  using Stream = container::Stream;

  int exit_on_eof = 0;
  std::set<int> fatal_signals;

  // Observations.
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

  Status create_container(const std::string&, const std::string&, container::StdioMode,
                          const std::string&) override {
    return {};
  }
  Status start_container(const std::string&, std::chrono::milliseconds) override { return {}; }
  Status remove_container(const std::string&, uint32_t) override { return {}; }
  Status exec_process(const ProcessRef&, const std::string&, container::StdioMode,
                      const std::string&) override {
    return {};
  }
  Status signal(const ProcessRef&, int sig, bool) override {
    std::lock_guard l(mu_);
    signals_.push_back(sig);
    if (fatal_signals.contains(sig) && !exit_) {
      exit_ = ExitStatus{128 + sig, true, sig};
      cv_.notify_all();
    }
    return {};
  }
  Result<ExitStatus> wait(const ProcessRef&) override {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return exit_.has_value(); });
    return *exit_;
  }
  Result<size_t> write_stdin(const ProcessRef&, std::string_view data) override {
    std::lock_guard l(mu_);
    in_ += data;
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
    return data.size();
  }
  Status close_stdin(const ProcessRef&) override {
    std::lock_guard l(mu_);
    if (!exit_) exit_ = ExitStatus{exit_on_eof, false, 0};
    cv_.notify_all();
    return {};
  }
  Status read_output(const ProcessRef&, Stream s, const container::ChunkSink& sink) override {
    std::unique_lock l(mu_);
    auto& q = s == Stream::Stdout ? out_ : err_;
    for (;;) {
      cv_.wait(l, [&] { return !q.empty() || exit_.has_value(); });
      if (q.empty()) return {};  // EOF once the process ended and all is read
      std::string chunk = q.front();
      q.pop_front();
      l.unlock();
      bool more = sink(chunk);
      l.lock();
      if (!more) return {};
    }
  }
  Status resize(const ProcessRef&, uint32_t rows, uint32_t cols) override {
    std::lock_guard l(mu_);
    resizes_.emplace_back(rows, cols);
    return {};
  }
  Result<container::GuestProcessList> list_processes(const std::string&) override {
    return container::GuestProcessList{};
  }
  Status pause(const std::string&) override { return {}; }
  Status resume(const std::string&) override { return {}; }
  Status update(const std::string&, const std::string&) override { return {}; }
  Result<container::GuestStats> stats(const std::string&) override {
    return container::GuestStats{};
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string in_;
  std::deque<std::string> out_, err_;
  std::vector<int> signals_;
  std::vector<std::pair<uint32_t, uint32_t>> resizes_;
  std::optional<ExitStatus> exit_;
};

}  // namespace hull::testing
