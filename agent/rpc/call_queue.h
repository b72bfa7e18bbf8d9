// CallQueue: the agent's long-lived calls (WaitProcess, ReadStdout,
// ReadStderr, OomEvents) on gRPC's async API, driven by one thread of ours.
//
// Why not gRPC's callback API: in gRPC 1.51 on Linux a server with callback
// methods gets an "alternative" completion queue whose two nexting_threads
// poll it with a 100 ms deadline and sleep 100 ms after each empty poll, so an
// idle guest woke about 8 times a second for nothing (issue 14). This thread
// waits in CompletionQueue::Next() with no deadline: it wakes only when a call
// arrives, a write or finish completes, or a call ends.
//
// The reactors below mirror the callback API's (grpc::ServerWriteReactor,
// grpc::ServerUnaryReactor), so a stream's logic is written the same way:
// StartWrite() and Finish() from any thread, OnWriteDone(), OnCancel() and
// OnDone() on the queue's thread, never inline inside StartWrite() or
// Finish(). As with gRPC's reactors, one write at a time, every call must be
// finished (even a cancelled one), and OnDone() is the last reaction (the
// reactor deletes itself there). Unlike them, a Finish() while a write is in
// flight waits for that write.
//
//   gRPC                    CallQueue thread           reactor (any thread)
//    |-- call arrives ------->| handler(req) -> reactor   |
//    |                        | (requests the next call)  |
//    |<------------------------------------------ StartWrite(msg)
//    |-- write done --------->| OnWriteDone(ok) --------->|
//    |<------------------------------------------ Finish(status)
//    |-- finish done, call done -> [OnCancel() if cancelled] OnDone()
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace hull::agent::rpc {

class CallQueue;

namespace detail {

// An event on the queue: the tag gRPC hands back.
struct Tag {
  virtual void proceed(bool ok) = 0;

 protected:
  ~Tag() = default;
};

class ReactorBase;

// One call, from its request to OnDone (StreamCall, UnaryCall below): the
// state both kinds share. Deletes itself after the reactor's OnDone.
class CallBase {
 public:
  // From the reactor (any thread).
  void start_write(const void* msg);
  void finish(const grpc::Status& st);

 protected:
  explicit CallBase(CallQueue& q) : q_(q) {}
  virtual ~CallBase() = default;
  // Asks for the call and its end, or deletes this when the queue is closing.
  void submit();

  // Asks gRPC for the next call of the method, `tag` when it arrives.
  virtual void request(void* tag) = 0;
  virtual void write(const void* msg, void* tag) = 0;
  virtual void send_finish(const grpc::Status& st, void* tag) = 0;
  // The call arrived: asks for the next one of the method, returns this one's reactor.
  virtual ReactorBase* arrive() = 0;

  CallQueue& q_;
  grpc::ServerContext ctx_;

 private:
  struct Event final : Tag {
    Event(CallBase* c, void (CallBase::*fn)(bool)) : call(c), on(fn) {}
    void proceed(bool ok) override { (call->*on)(ok); }
    CallBase* call;
    void (CallBase::*on)(bool);
  };

  void on_arrived(bool ok);
  void on_wrote(bool ok);
  void on_finished(bool ok);
  void on_ended(bool ok);
  void maybe_done();
  void start_finish(const grpc::Status& st);  // under mu_

  Event arrived_{this, &CallBase::on_arrived};
  Event wrote_{this, &CallBase::on_wrote};
  Event finished_{this, &CallBase::on_finished};
  Event ended_tag_{this, &CallBase::on_ended};
  ReactorBase* reactor_ = nullptr;  // set once on the queue's thread, before bind()
  std::mutex mu_;
  bool writing_ = false;                       // guarded by mu_
  std::optional<grpc::Status> finish_wanted_;  // after the write in flight; guarded by mu_
  bool finish_started_ = false;                // guarded by mu_
  bool finish_done_ = false;                   // guarded by mu_
  bool ended_ = false;                         // guarded by mu_
  bool done_ = false;                          // guarded by mu_
};

// The part of a reactor shared by both kinds: StartWrite and Finish before
// the call is bound (from the reactor's constructor) are kept for bind().
class ReactorBase {
 public:
  virtual ~ReactorBase() = default;
  virtual void OnWriteDone(bool /*ok*/) {}
  virtual void OnCancel() {}
  virtual void OnDone() = 0;

  void bind(CallBase* call);

 protected:
  void start_write(const void* msg);
  void finish(const grpc::Status& st);

 private:
  std::mutex mu_;
  CallBase* call_ = nullptr;  // guarded by mu_
  const void* early_write_ = nullptr;
  std::optional<grpc::Status> early_finish_;
};

}  // namespace detail

// A server stream of W (the counterpart of grpc::ServerWriteReactor<W>).
template <typename W>
class StreamReactor : public detail::ReactorBase {
 public:
  // `msg` must stay valid until OnWriteDone.
  void StartWrite(const W* msg) { start_write(msg); }
  void Finish(const grpc::Status& st) { finish(st); }
};

// A unary call whose reply R the handler was given (the counterpart of
// grpc::ServerUnaryReactor): Finish(OK) sends it, any other status alone.
class UnaryReactor : public detail::ReactorBase {
 public:
  void Finish(const grpc::Status& st) { finish(st); }
};

class CallQueue {
 public:
  // Adds the queue to `builder`: call before BuildAndStart().
  explicit CallQueue(grpc::ServerBuilder& builder);
  ~CallQueue();  // stop()
  CallQueue(const CallQueue&) = delete;
  CallQueue& operator=(const CallQueue&) = delete;

  // Serves one method (after BuildAndStart(), before start()). `request` is
  // the generated Request<Method> of the service (bound to it); `handle`
  // returns the reactor for one call, never null.
  template <typename Req, typename W>
  using StreamRequest =
      std::function<void(grpc::ServerContext*, Req*, grpc::ServerAsyncWriter<W>*,
                         grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*)>;
  template <typename Req, typename W>
  void serve_stream(StreamRequest<Req, W> request,
                    std::function<StreamReactor<W>*(grpc::ServerContext&, const Req&)> handle);

  template <typename Req, typename R>
  using UnaryRequest =
      std::function<void(grpc::ServerContext*, Req*, grpc::ServerAsyncResponseWriter<R>*,
                         grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*)>;
  template <typename Req, typename R>
  void serve_unary(UnaryRequest<Req, R> request,
                   std::function<UnaryReactor*(grpc::ServerContext&, const Req&, R*)> handle);

  // Starts the thread.
  void start();
  // After grpc::Server::Shutdown() has returned: asks for no more calls,
  // shuts the queue down, drains it and joins the thread.
  void stop();

  // Whether new calls may still be requested; then runs `request` under the
  // lock stop() takes before shutting the queue down.
  bool request_if_open(const std::function<void()>& request);
  grpc::ServerCompletionQueue* cq() const { return cq_.get(); }

 private:
  void run();

  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::mutex mu_;
  bool open_ = true;  // guarded by mu_
  std::thread thread_;
};

// One call of one method, from its request to OnDone; deletes itself.
template <typename Req, typename W>
class StreamCall final : public detail::CallBase {
 public:
  using Request = CallQueue::StreamRequest<Req, W>;
  using Handle = std::function<StreamReactor<W>*(grpc::ServerContext&, const Req&)>;
  static void submit_new(CallQueue& q, Request request, Handle handle) {
    (new StreamCall(q, std::move(request), std::move(handle)))->submit();
  }

 private:
  StreamCall(CallQueue& q, Request request, Handle handle)
      : CallBase(q), request_(std::move(request)), handle_(std::move(handle)) {}
  void request(void* tag) override { request_(&ctx_, &req_, &writer_, q_.cq(), q_.cq(), tag); }
  void write(const void* msg, void* tag) override {
    writer_.Write(*static_cast<const W*>(msg), tag);
  }
  void send_finish(const grpc::Status& st, void* tag) override { writer_.Finish(st, tag); }
  detail::ReactorBase* arrive() override {
    submit_new(q_, request_, handle_);
    return handle_(ctx_, req_);
  }

  Request request_;
  Handle handle_;
  Req req_;
  grpc::ServerAsyncWriter<W> writer_{&ctx_};
};

template <typename Req, typename R>
class UnaryCall final : public detail::CallBase {
 public:
  using Request = CallQueue::UnaryRequest<Req, R>;
  using Handle = std::function<UnaryReactor*(grpc::ServerContext&, const Req&, R*)>;
  static void submit_new(CallQueue& q, Request request, Handle handle) {
    (new UnaryCall(q, std::move(request), std::move(handle)))->submit();
  }

 private:
  UnaryCall(CallQueue& q, Request request, Handle handle)
      : CallBase(q), request_(std::move(request)), handle_(std::move(handle)) {}
  void request(void* tag) override { request_(&ctx_, &req_, &responder_, q_.cq(), q_.cq(), tag); }
  void write(const void*, void*) override {}  // a unary reactor has no StartWrite
  void send_finish(const grpc::Status& st, void* tag) override {
    if (st.ok()) {
      responder_.Finish(reply_, st, tag);
    } else {
      responder_.FinishWithError(st, tag);
    }
  }
  detail::ReactorBase* arrive() override {
    submit_new(q_, request_, handle_);
    return handle_(ctx_, req_, &reply_);
  }

  Request request_;
  Handle handle_;
  Req req_;
  R reply_;
  grpc::ServerAsyncResponseWriter<R> responder_{&ctx_};
};

template <typename Req, typename W>
void CallQueue::serve_stream(
    StreamRequest<Req, W> request,
    std::function<StreamReactor<W>*(grpc::ServerContext&, const Req&)> handle) {
  StreamCall<Req, W>::submit_new(*this, std::move(request), std::move(handle));
}

template <typename Req, typename R>
void CallQueue::serve_unary(
    UnaryRequest<Req, R> request,
    std::function<UnaryReactor*(grpc::ServerContext&, const Req&, R*)> handle) {
  UnaryCall<Req, R>::submit_new(*this, std::move(request), std::move(handle));
}

}  // namespace hull::agent::rpc
