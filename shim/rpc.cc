// containerd.task.v2.Task on the ttrpc server: each method decoded, handed
// to the Service, its answer encoded (ttrpc::ServiceMap::add_typed). A
// handler never throws: anything thrown becomes INTERNAL here, so one bad
// call cannot take the shim (and the pod) down.
#include <exception>

#include "common/log.h"
#include "shim/service.h"

namespace hull::shim {
namespace {

template <typename Req, typename Resp>
void bind(ttrpc::ServiceMap& m, const char* method,
          std::function<Reply<Resp>(const ttrpc::CallContext&, const Req&)> fn) {
  m.add_typed<Req, Resp>(
      std::string(kTaskService), method,
      [method, fn = std::move(fn)](const ttrpc::CallContext& ctx, const Req& req) -> Reply<Resp> {
        try {
          auto r = fn(ctx, req);
          if (!r) log::debug(std::string(method) + ": " + r.error().what());
          return r;
        } catch (const std::exception& e) {
          log::error(std::string(method) + ": " + e.what());
          return std::unexpected(
              ttrpc::RpcError{ttrpc::Code::Internal, std::string(method) + ": " + e.what()});
        }
      });
}

// For the methods that do not need the call's context.
template <typename Req, typename Resp>
void bind(ttrpc::ServiceMap& m, const char* method, Reply<Resp> (Service::*fn)(const Req&),
          Service& s) {
  bind<Req, Resp>(m, method,
                  [&s, fn](const ttrpc::CallContext&, const Req& req) { return (s.*fn)(req); });
}

}  // namespace

ttrpc::ServiceMap task_service(Service& s) {
  ttrpc::ServiceMap m;
  bind(m, "Create", &Service::create, s);
  bind(m, "Start", &Service::start, s);
  bind(m, "Delete", &Service::remove, s);
  bind(m, "State", &Service::state, s);
  bind<task::WaitRequest, task::WaitResponse>(
      m, "Wait",
      [&s](const ttrpc::CallContext& ctx, const task::WaitRequest& r) { return s.wait(ctx, r); });
  bind(m, "Kill", &Service::kill, s);
  bind(m, "Exec", &Service::exec, s);
  bind(m, "ResizePty", &Service::resize_pty, s);
  bind(m, "CloseIO", &Service::close_io, s);
  bind(m, "Pids", &Service::pids, s);
  bind(m, "Pause", &Service::pause, s);
  bind(m, "Resume", &Service::resume, s);
  bind(m, "Update", &Service::update, s);
  bind(m, "Stats", &Service::stats, s);
  bind(m, "Checkpoint", &Service::checkpoint, s);
  bind(m, "Connect", &Service::connect, s);
  bind(m, "Shutdown", &Service::shutdown, s);
  return m;
}

}  // namespace hull::shim
