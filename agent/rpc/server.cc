#include "agent/rpc/server.h"

#include <errno.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "agent/rpc/call_queue.h"
#include "agent/rpc/guest_info.h"
#include "agent/rpc/service.h"
#include "common/io.h"
#include "common/log.h"

namespace hull::agent::rpc {

namespace {

// How long shutdown() waits for calls in flight (the DestroySandbox reply among them).
constexpr auto kDrainTimeout = std::chrono::seconds(2);
// gRPC sync-server pollers: the agent serves one host, a couple are plenty.
constexpr int kMaxPollers = 2;
// How long an idle sync-server poller waits before it looks again (gRPC's
// default is 10 s): an hour, as shutdown wakes it anyway; an idle guest
// should not wake for it (issue 14).
constexpr int kPollerTimeoutMs = 3600 * 1000;
constexpr int kListenBacklog = 16;

}  // namespace

AgentServer::~AgentServer() {
  if (server_) shutdown();
}

Result<std::unique_ptr<AgentServer>> AgentServer::start(UniqueFd listener,
                                                        const ServerOptions& opts) {
  std::unique_ptr<AgentServer> s(new AgentServer());
  s->listener_ = std::move(listener);
  // Non-blocking, so on_listen_ready() can drain the accept queue.
  HULL_TRY(wrap(set_nonblocking(s->listener_.get()), "agent listener"));
  s->destroy_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->destroy_) return fail_errno("eventfd");

  ServiceOptions sopts;
  sopts.start_boottime_ns = opts.start_boottime_ns ? opts.start_boottime_ns : boottime_ns();
  sopts.shared_dir = opts.shared_dir;
  sopts.reaper = opts.reaper;
  int destroy_fd = s->destroy_.get();
  sopts.on_destroy = [destroy_fd] {
    uint64_t one = 1;
    (void)!::write(destroy_fd, &one, sizeof one);
  };
  HULL_ASSIGN(service, AgentService::create(std::move(sopts)));
  s->service_ = std::move(service);

  grpc::ServerBuilder builder;
  builder.RegisterService(s->service_.get());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kMaxPollers);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC,
                              kPollerTimeoutMs);
  s->calls_ = std::make_unique<CallQueue>(builder);
  s->server_ = builder.BuildAndStart();
  if (!s->server_) return fail(Errc::Internal, "the gRPC server did not start");
  s->service_->serve_long_calls(*s->calls_);
  s->calls_->start();
  s->service_->set_ready_boottime_ns(boottime_ns());
  return s;
}

void AgentServer::on_listen_ready() {
  if (!server_) return;
  for (;;) {
    // NONBLOCK is mandatory: gRPC's fd transport hangs on a blocking fd.
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN) log::warn(std::string("agent: accept: ") + std::strerror(errno));
      return;
    }
    grpc::AddInsecureChannelFromFd(server_.get(), fd);  // gRPC owns fd from here
  }
}

void AgentServer::shutdown() {
  if (!server_) return;
  listener_.reset();
  service_->close_streams();
  server_->Shutdown(std::chrono::system_clock::now() + kDrainTimeout);
  server_->Wait();
  calls_->stop();
  server_.reset();
}

Result<UniqueFd> listen_vsock(uint32_t port) {
  UniqueFd lfd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!lfd) return fail_errno("vsock socket");
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = VMADDR_CID_ANY;
  addr.svm_port = port;
  if (::bind(lfd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail_errno("binding vsock port " + std::to_string(port));
  }
  if (::listen(lfd.get(), kListenBacklog) != 0) return fail_errno("listening on vsock");
  return lfd;
}

Status mount_shared_fs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Errc::System, "creating " + dir + ": " + ec.message());
  if (::mount(kSharedFsTag, dir.c_str(), "virtiofs", MS_NOSUID | MS_NODEV, nullptr) != 0) {
    return fail_errno(std::string("mounting virtiofs ") + kSharedFsTag + " on " + dir);
  }
  return {};
}

Status serve_until_destroyed(UniqueFd listener, const ServerOptions& opts) {
  HULL_ASSIGN(server, AgentServer::start(std::move(listener), opts));
  for (;;) {
    pollfd p[2] = {{server->listen_fd(), POLLIN, 0}, {server->destroy_fd(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail_errno("poll on the agent listener");
    }
    if (p[1].revents & POLLIN) break;
    if (p[0].revents & POLLIN) server->on_listen_ready();
  }
  server->shutdown();
  return {};
}

}  // namespace hull::agent::rpc
