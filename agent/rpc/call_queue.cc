#include "agent/rpc/call_queue.h"

#include <pthread.h>

namespace hull::agent::rpc {

namespace detail {

void ReactorBase::bind(CallBase* call) {
  const void* write = nullptr;
  std::optional<grpc::Status> fin;
  {
    std::lock_guard lock(mu_);
    call_ = call;
    write = early_write_;
    fin = std::move(early_finish_);
  }
  if (write) call->start_write(write);
  if (fin) call->finish(*fin);
}

void ReactorBase::start_write(const void* msg) {
  CallBase* call = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!call_) {
      early_write_ = msg;
      return;
    }
    call = call_;
  }
  call->start_write(msg);
}

void ReactorBase::finish(const grpc::Status& st) {
  CallBase* call = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!call_) {
      if (!early_finish_) early_finish_ = st;
      return;
    }
    call = call_;
  }
  call->finish(st);
}

void CallBase::submit() {
  ctx_.AsyncNotifyWhenDone(&ended_tag_);
  if (!q_.request_if_open([this] { request(&arrived_); })) delete this;
}

void CallBase::start_write(const void* msg) {
  std::lock_guard lock(mu_);
  if (writing_ || finish_started_ || finish_wanted_)
    return;  // misuse: one write, none after Finish
  writing_ = true;
  write(msg, &wrote_);
}

void CallBase::finish(const grpc::Status& st) {
  std::lock_guard lock(mu_);
  if (finish_started_ || finish_wanted_) return;
  if (writing_) {
    finish_wanted_ = st;
    return;
  }
  start_finish(st);
}

void CallBase::start_finish(const grpc::Status& st) {
  finish_started_ = true;
  send_finish(st, &finished_);
}

void CallBase::on_arrived(bool ok) {
  if (!ok) {  // the server is shutting down: this call never started, nor will its end come
    delete this;
    return;
  }
  ReactorBase* r = arrive();
  reactor_ = r;
  r->bind(this);
  maybe_done();
}

void CallBase::on_wrote(bool ok) {
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (finish_wanted_) {
      start_finish(*finish_wanted_);
      finish_wanted_.reset();
    }
  }
  reactor_->OnWriteDone(ok);
  maybe_done();
}

void CallBase::on_finished(bool) {
  {
    std::lock_guard lock(mu_);
    finish_done_ = true;
  }
  maybe_done();
}

void CallBase::on_ended(bool) {
  {
    std::lock_guard lock(mu_);
    ended_ = true;
  }
  // The end can come before the call's arrival is handled only if it never
  // arrived, and then on_arrived(false) deleted this first: reactor_ is set.
  if (reactor_ && ctx_.IsCancelled()) reactor_->OnCancel();
  maybe_done();
}

void CallBase::maybe_done() {
  {
    std::lock_guard lock(mu_);
    if (!reactor_ || !ended_ || !finish_done_ || writing_ || done_) return;
    done_ = true;
  }
  reactor_->OnDone();
  delete this;
}

}  // namespace detail

CallQueue::CallQueue(grpc::ServerBuilder& builder) : cq_(builder.AddCompletionQueue()) {}

CallQueue::~CallQueue() {
  stop();
}

void CallQueue::start() {
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "hull-calls");
    run();
  });
}

bool CallQueue::request_if_open(const std::function<void()>& request) {
  std::lock_guard lock(mu_);
  if (!open_) return false;
  request();
  return true;
}

void CallQueue::stop() {
  {
    std::lock_guard lock(mu_);
    if (!open_) return;
    open_ = false;
    cq_->Shutdown();
  }
  if (thread_.joinable()) {
    thread_.join();
  } else {
    run();  // never started: drain here
  }
}

void CallQueue::run() {
  void* tag = nullptr;
  bool ok = false;
  // No deadline: the thread sleeps until gRPC has something for it.
  while (cq_->Next(&tag, &ok)) static_cast<detail::Tag*>(tag)->proceed(ok);
}

}  // namespace hull::agent::rpc
