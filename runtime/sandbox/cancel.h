// Canceller: ends blocking ContainerClient calls (WaitProcess, ReadStdout,
// WriteStdin, ...) from another thread. The shim needs it: its teardown must
// end a process's wait and stdio copy now, not when the guest answers.
//
// A call given a Canceller registers, for as long as it runs, how to end
// itself (a CancelScope). cancel() ends every registered call, and every
// later call made with the same Canceller fails at once, so a thread about
// to start a call just after the cancel does not start it. A call ended so
// fails with cancelled_error(call): Errc::NotRunning, "<call>: cancelled".
// cancel() is final; one Canceller serves any number of calls and threads.
//
//   thread A: client.wait(id, "", kWaitForever, &c)   (blocks in the agent)
//   thread B: c.cancel()                              A returns at once
//   thread A: client.wait(id, "", kWaitForever, &c)   fails without a call
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.h"

namespace hull::sandbox {

// The error of a call its Canceller ended (or refused to start).
inline Error cancelled_error(std::string_view call) {
  return Error{Errc::NotRunning, 0, std::string(call) + ": cancelled"};
}

class CancelScope;

class Canceller {
 public:
  Canceller() = default;
  Canceller(const Canceller&) = delete;
  Canceller& operator=(const Canceller&) = delete;

  // Ends every registered call and refuses every later one.
  void cancel() {
    std::lock_guard lk(mu_);
    cancelled_ = true;
    for (auto& [_, end] : calls_) end();
  }
  // Lock-free, so a call may ask while it holds its own lock (see CancelScope).
  bool cancelled() const { return cancelled_.load(); }

 private:
  friend class CancelScope;
  bool add(const CancelScope* call, std::function<void()> end) {
    std::lock_guard lk(mu_);
    if (cancelled_) return false;
    calls_.emplace(call, std::move(end));
    return true;
  }
  void remove(const CancelScope* call) {
    std::lock_guard lk(mu_);
    calls_.erase(call);
  }

  std::mutex mu_;
  std::map<const CancelScope*, std::function<void()>> calls_;  // guarded by mu_
  std::atomic<bool> cancelled_{false};                         // written under mu_
};

// One call's registration in a Canceller, for its scope. `c` may be null (a
// call nobody cancels: the scope is always true). `end` ends the call; it
// runs on the cancelling thread under the Canceller's lock, so it must be
// quick and must not use the Canceller. Make the scope before taking a lock
// that `end` takes, so the lock order is always Canceller, then call.
class CancelScope {
 public:
  CancelScope(Canceller* c, std::function<void()> end)
      : c_(c), ok_(c == nullptr || c->add(this, std::move(end))) {}
  ~CancelScope() {
    if (c_ && ok_) c_->remove(this);
  }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

  // False when the Canceller was cancelled already: do not make the call.
  explicit operator bool() const { return ok_; }

 private:
  Canceller* c_;
  bool ok_;
};

}  // namespace hull::sandbox
