// The container calls of AgentService: each one is a registry call (or a
// call on the call queue) whose hull::Error becomes a gRPC status with the same
// text (agent/proto/error_codec.h). Nothing thrown leaves a handler.
#include <exception>

#include "agent/engine/pty.h"
#include "agent/proto/constants.h"
#include "agent/proto/error_codec.h"
#include "agent/rpc/service.h"
#include "common/log.h"

namespace hull::agent::rpc {

namespace {

grpc::Status status_of(const Status& st) {
  if (st) return grpc::Status::OK;
  if (st.error().code == Errc::Internal || st.error().code == Errc::System) {
    log::warn(st.error().what());
  }
  return to_grpc_status(st.error());
}

// Runs `fn` (returning Status), turning exceptions into INTERNAL.
template <typename F>
grpc::Status answer(const char* call, F&& fn) {
  try {
    return status_of(fn());
  } catch (const std::exception& e) {
    log::error(std::string(call) + ": " + e.what());
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string(call) + ": " + e.what());
  } catch (...) {
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string(call) + ": unknown exception");
  }
}

// A stream that ends at once with `st`.
template <typename T>
class FailedStream final : public StreamReactor<T> {
 public:
  explicit FailedStream(const grpc::Status& st) { this->Finish(st); }
  void OnDone() override { delete this; }
};

// A unary call answered at once with `st` (not OK: there is no reply).
class FailedUnary final : public UnaryReactor {
 public:
  explicit FailedUnary(const grpc::Status& st) { Finish(st); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::Status AgentService::CreateContainer(grpc::ServerContext*, const CreateContainerRequest* req,
                                           Empty*) {
  return answer("CreateContainer", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    return reg->create(*req);
  });
}

grpc::Status AgentService::StartContainer(grpc::ServerContext*, const ContainerRequest* req,
                                          Empty*) {
  return answer("StartContainer", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    return reg->start(req->container_id());
  });
}

grpc::Status AgentService::RemoveContainer(grpc::ServerContext*, const RemoveContainerRequest* req,
                                           Empty*) {
  return answer("RemoveContainer", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    return reg->remove(req->container_id(), req->timeout_s());
  });
}

grpc::Status AgentService::ExecProcess(grpc::ServerContext*, const ExecProcessRequest* req,
                                       Empty*) {
  return answer("ExecProcess", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    return reg->exec(*req);
  });
}

grpc::Status AgentService::SignalProcess(grpc::ServerContext*, const SignalProcessRequest* req,
                                         Empty*) {
  return answer("SignalProcess", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    return reg->signal(*req);
  });
}

void AgentService::serve_long_calls(CallQueue& queue) {
  using Writer = grpc::ServerAsyncWriter<IoChunk>;
  using Cq = grpc::ServerCompletionQueue;
  queue.serve_unary<ProcessRequest, WaitProcessResponse>(
      [this](grpc::ServerContext* ctx, ProcessRequest* req,
             grpc::ServerAsyncResponseWriter<WaitProcessResponse>* w, grpc::CompletionQueue* cq,
             Cq* ncq, void* tag) { RequestWaitProcess(ctx, req, w, cq, ncq, tag); },
      [this](grpc::ServerContext&, const ProcessRequest& req, WaitProcessResponse* reply) {
        return wait_process(req, reply);
      });
  queue.serve_stream<ProcessRequest, IoChunk>(
      [this](grpc::ServerContext* ctx, ProcessRequest* req, Writer* w, grpc::CompletionQueue* cq,
             Cq* ncq, void* tag) { RequestReadStdout(ctx, req, w, cq, ncq, tag); },
      [this](grpc::ServerContext&, const ProcessRequest& req) { return read_output(req, false); });
  queue.serve_stream<ProcessRequest, IoChunk>(
      [this](grpc::ServerContext* ctx, ProcessRequest* req, Writer* w, grpc::CompletionQueue* cq,
             Cq* ncq, void* tag) { RequestReadStderr(ctx, req, w, cq, ncq, tag); },
      [this](grpc::ServerContext&, const ProcessRequest& req) { return read_output(req, true); });
  queue.serve_stream<OomEventsRequest, OomEvent>(
      [this](grpc::ServerContext* ctx, OomEventsRequest* req, grpc::ServerAsyncWriter<OomEvent>* w,
             grpc::CompletionQueue* cq, Cq* ncq,
             void* tag) { RequestOomEvents(ctx, req, w, cq, ncq, tag); },
      [this](grpc::ServerContext&, const OomEventsRequest&) { return oom_events(); });
}

UnaryReactor* AgentService::wait_process(const ProcessRequest& req, WaitProcessResponse* reply) {
  try {
    auto reg = containers();
    if (!reg) return new FailedUnary(to_grpc_status(reg.error()));
    auto rec = (*reg)->process(req.container_id(), req.exec_id());
    if (!rec) return new FailedUnary(to_grpc_status(rec.error()));
    return wait_for_exit(*rec, reply);
  } catch (const std::exception& e) {
    return new FailedUnary(grpc::Status(grpc::StatusCode::INTERNAL, e.what()));
  }
}

grpc::Status AgentService::WriteStdin(grpc::ServerContext* ctx, const WriteStdinRequest* req,
                                      WriteStdinResponse* reply) {
  return answer("WriteStdin", [&]() -> Status {
    if (req->data().size() > kMaxIoChunkBytes) {
      return fail(Errc::Invalid,
                  "WriteStdin: data: more than " + std::to_string(kMaxIoChunkBytes) + " bytes");
    }
    HULL_ASSIGN(reg, containers());
    HULL_ASSIGN(rec, reg->process(req->container_id(), req->exec_id()));
    HULL_ASSIGN(n, write_stdin(*rec->io.in, req->data(), [ctx] { return ctx->IsCancelled(); }));
    reply->set_written(static_cast<uint32_t>(n));
    return {};
  });
}

StreamReactor<IoChunk>* AgentService::read_output(const ProcessRequest& req, bool stderr_stream) {
  try {
    auto reg = containers();
    if (!reg) return new FailedStream<IoChunk>(to_grpc_status(reg.error()));
    auto rec = (*reg)->process(req.container_id(), req.exec_id());
    if (!rec) return new FailedStream<IoChunk>(to_grpc_status(rec.error()));
    return stream_output(*loop_, stderr_stream ? (*rec)->io.err : (*rec)->io.out);
  } catch (const std::exception& e) {
    return new FailedStream<IoChunk>(grpc::Status(grpc::StatusCode::INTERNAL, e.what()));
  }
}

grpc::Status AgentService::CloseStdin(grpc::ServerContext*, const ProcessRequest* req, Empty*) {
  return answer("CloseStdin", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    HULL_ASSIGN(rec, reg->process(req->container_id(), req->exec_id()));
    return close_stdin(*rec->io.in);
  });
}

grpc::Status AgentService::ResizeTty(grpc::ServerContext*, const ResizeTtyRequest* req, Empty*) {
  return answer("ResizeTty", [&]() -> Status {
    if (req->rows() == 0 || req->cols() == 0 || req->rows() > 0xffff || req->cols() > 0xffff) {
      return fail(Errc::Invalid, "ResizeTty: rows and cols must be between 1 and 65535");
    }
    HULL_ASSIGN(reg, containers());
    HULL_ASSIGN(rec, reg->process(req->container_id(), req->exec_id()));
    std::shared_ptr<UniqueFd> master;
    {
      std::lock_guard lock(rec->io.in->mu);
      if (rec->io.in->pty) master = rec->io.in->fd;
    }
    if (!master) return fail(Errc::InvalidState, "ResizeTty: the process has no terminal");
    return engine::resize_pty(master->get(), static_cast<uint16_t>(req->rows()),
                              static_cast<uint16_t>(req->cols()));
  });
}

grpc::Status AgentService::ListProcesses(grpc::ServerContext*, const ContainerRequest* req,
                                         ListProcessesResponse* reply) {
  return answer("ListProcesses", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    HULL_ASSIGN(list, reg->list_processes(req->container_id()));
    *reply = std::move(list);
    return {};
  });
}

grpc::Status AgentService::StatsContainer(grpc::ServerContext*, const ContainerRequest* req,
                                          StatsContainerResponse* reply) {
  return answer("StatsContainer", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    HULL_ASSIGN(stats, reg->stats(req->container_id()));
    *reply->mutable_cgroup() = std::move(stats);
    return {};
  });
}

grpc::Status AgentService::PauseContainer(grpc::ServerContext*, const ContainerRequest* req,
                                          Empty*) {
  return answer("PauseContainer", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    return reg->pause(req->container_id());
  });
}

grpc::Status AgentService::ResumeContainer(grpc::ServerContext*, const ContainerRequest* req,
                                           Empty*) {
  return answer("ResumeContainer", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    return reg->resume(req->container_id());
  });
}

grpc::Status AgentService::UpdateContainer(grpc::ServerContext*, const UpdateContainerRequest* req,
                                           Empty*) {
  return answer("UpdateContainer", [&]() -> Status {
    HULL_ASSIGN(reg, containers());
    return reg->update(req->container_id(), req->resources_json());
  });
}

StreamReactor<OomEvent>* AgentService::oom_events() {
  if (!oom_) {
    auto reg = containers();
    return new FailedStream<OomEvent>(
        reg ? grpc::Status(grpc::StatusCode::INTERNAL, "no OOM monitor")
            : to_grpc_status(reg.error()));
  }
  return oom_->subscribe();
}

}  // namespace hull::agent::rpc
