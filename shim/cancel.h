// Calls to the agent that block (WaitProcess, ReadStdout, WriteStdin) and
// that the shim must be able to end from another thread: each registers its
// grpc::ClientContext here for the duration of the call; cancel() cancels
// every registered one and every later add() refuses, so a thread about to
// start a call after the cancel does not start it.
#pragma once

#include <grpcpp/client_context.h>

#include <mutex>
#include <set>

namespace hull::shim {

class Canceller {
 public:
  // False when cancel() already ran: do not make the call.
  bool add(grpc::ClientContext* ctx) {
    std::lock_guard lk(mu_);
    if (cancelled_) return false;
    calls_.insert(ctx);
    return true;
  }
  void remove(grpc::ClientContext* ctx) {
    std::lock_guard lk(mu_);
    calls_.erase(ctx);
  }
  void cancel() {
    std::lock_guard lk(mu_);
    cancelled_ = true;
    for (grpc::ClientContext* c : calls_) c->TryCancel();
  }
  bool cancelled() {
    std::lock_guard lk(mu_);
    return cancelled_;
  }

 private:
  std::mutex mu_;
  std::set<grpc::ClientContext*> calls_;  // guarded by mu_
  bool cancelled_ = false;                // guarded by mu_
};

// Registers a context for one scope.
class CancelScope {
 public:
  CancelScope(Canceller& c, grpc::ClientContext* ctx) : c_(c), ctx_(ctx), ok_(c.add(ctx)) {}
  ~CancelScope() {
    if (ok_) c_.remove(ctx_);
  }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;
  explicit operator bool() const { return ok_; }

 private:
  Canceller& c_;
  grpc::ClientContext* ctx_;
  bool ok_;
};

}  // namespace hull::shim
