#include "agent/rpc/process_record.h"

#include <sys/wait.h>

namespace hull::agent::rpc {

namespace {

class WaitReactor;

struct WaitCore {
  std::mutex mu;
  WaitReactor* reactor = nullptr;  // null after OnDone
  WaitProcessResponse* reply = nullptr;
  bool finished = false;
};

class WaitReactor final : public UnaryReactor {
 public:
  explicit WaitReactor(WaitProcessResponse* reply) : core_(std::make_shared<WaitCore>()) {
    core_->reactor = this;
    core_->reply = reply;
  }

  std::shared_ptr<WaitCore> core() const { return core_; }

  // From the record's waiter list (any thread).
  static void complete(const std::shared_ptr<WaitCore>& core, int wait_status) {
    std::lock_guard lock(core->mu);
    if (!core->reactor || core->finished) return;
    core->finished = true;
    if (wait_status == kAbandonedStatus) {
      core->reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                         "the sandbox is being destroyed", "not running"));
      return;
    }
    *core->reply = wait_response(wait_status);
    core->reactor->Finish(grpc::Status::OK);
  }

  void OnCancel() override {
    std::lock_guard lock(core_->mu);
    if (core_->finished) return;
    core_->finished = true;
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "WaitProcess cancelled"));
  }

  void OnDone() override {
    {
      std::lock_guard lock(core_->mu);
      core_->reactor = nullptr;
    }
    delete this;
  }

 private:
  std::shared_ptr<WaitCore> core_;
};

}  // namespace

WaitProcessResponse wait_response(int wait_status) {
  WaitProcessResponse r;
  r.set_exit_status(engine::exit_status_from_wait(wait_status));
  if (WIFSIGNALED(wait_status)) {
    r.set_signaled(true);
    r.set_signal(static_cast<uint32_t>(WTERMSIG(wait_status)));
  }
  return r;
}

void ProcessRecord::on_reaped(pid_t reaped, int wait_status) {
  if (container) (void)container->on_exit(reaped, wait_status);
  if (process) (void)process->on_exit(reaped, wait_status);
  std::vector<Entry> ws;
  {
    std::lock_guard lock(mu_);
    if (wait_status_) return;
    wait_status_ = wait_status;
    ws.swap(waiters_);
    if (!ws.empty()) reported_ = true;
  }
  for (auto& w : ws) w.fn(wait_status);
}

void ProcessRecord::add_waiter(Waiter w, std::function<bool()> pending) {
  std::optional<int> now;
  {
    std::lock_guard lock(mu_);
    if (wait_status_) {
      now = wait_status_;
      reported_ = true;
    } else if (abandoned_) {
      now = kAbandonedStatus;
    } else {
      std::erase_if(waiters_, [](const Entry& e) { return e.pending && !e.pending(); });
      waiters_.push_back({std::move(w), std::move(pending)});
      return;
    }
  }
  w(*now);
}

bool ProcessRecord::reported() const {
  std::lock_guard lock(mu_);
  return reported_;
}

std::optional<int> ProcessRecord::wait_status() const {
  std::lock_guard lock(mu_);
  return wait_status_;
}

void ProcessRecord::abandon_waiters() {
  std::vector<Entry> ws;
  {
    std::lock_guard lock(mu_);
    abandoned_ = true;
    ws.swap(waiters_);
  }
  for (auto& w : ws) w.fn(kAbandonedStatus);
}

UnaryReactor* wait_for_exit(const std::shared_ptr<ProcessRecord>& rec, WaitProcessResponse* reply) {
  auto* r = new WaitReactor(reply);
  std::shared_ptr<WaitCore> core = r->core();
  rec->add_waiter([core](int status) { WaitReactor::complete(core, status); },
                  [core] {
                    std::lock_guard lock(core->mu);
                    return !core->finished;
                  });
  return r;
}

}  // namespace hull::agent::rpc
