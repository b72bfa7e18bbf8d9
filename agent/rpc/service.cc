#include "agent/rpc/service.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>

#include "agent/proto/constants.h"
#include "agent/rpc/guest_info.h"
#include "common/unique_fd.h"
#include "common/version.h"

namespace hull::agent::rpc {

namespace {

grpc::Status errno_status(grpc::StatusCode code, const std::string& what, int err) {
  return grpc::Status(code, what + ": " + std::strerror(err));
}

grpc::StatusCode code_for_errno(int err) {
  switch (err) {
    case ENOENT:
      return grpc::StatusCode::NOT_FOUND;
    case EACCES:
    case EPERM:
      return grpc::StatusCode::PERMISSION_DENIED;
    case EXDEV:
    case ELOOP:
    case EINVAL:
      return grpc::StatusCode::INVALID_ARGUMENT;
    default:
      return grpc::StatusCode::INTERNAL;
  }
}

}  // namespace

grpc::Status AgentService::Health(grpc::ServerContext*, const HealthRequest*,
                                  HealthResponse* reply) {
  reply->set_status(HealthResponse::SERVING);
  return grpc::Status::OK;
}

grpc::Status AgentService::GetGuestDetails(grpc::ServerContext*, const GuestDetailsRequest*,
                                           GuestDetailsResponse* reply) {
  utsname u{};
  if (::uname(&u) == 0) {
    reply->set_kernel_release(u.release);
    reply->set_kernel_version(u.version);
    reply->set_machine(u.machine);
  }
  reply->set_agent_version(hull::kVersion);
  reply->set_agent_commit(hull::kGitCommit);
  reply->set_agent_start_boottime_ns(opts_.start_boottime_ns);
  reply->set_agent_ready_boottime_ns(opts_.ready_boottime_ns);
  reply->set_now_boottime_ns(boottime_ns());
  if (auto mem = read_meminfo()) {
    reply->set_mem_total_kib(mem->total_kib);
    reply->set_mem_available_kib(mem->available_kib);
  }
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  reply->set_online_cpus(cpus > 0 ? static_cast<uint32_t>(cpus) : 0);
  return grpc::Status::OK;
}

grpc::Status AgentService::DestroySandbox(grpc::ServerContext*, const DestroySandboxRequest*,
                                          DestroySandboxResponse*) {
  // The power-off runs after this reply has gone out (the server drains its
  // calls before on_destroy's receiver powers the VM off).
  if (opts_.on_destroy) opts_.on_destroy();
  return grpc::Status::OK;
}

grpc::Status AgentService::ReadSharedFile(grpc::ServerContext*, const ReadSharedFileRequest* req,
                                          ReadSharedFileResponse* reply) {
  const std::string& path = req->path();
  if (path.empty() || path.front() == '/' || path.size() > 4096) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "path must be relative to the shared directory");
  }
  UniqueFd root(::open(opts_.shared_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return errno_status(code_for_errno(errno), opts_.shared_dir, errno);
  // RESOLVE_BENEATH: no "..", absolute symlink or magic link may leave shared/.
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how)));
  if (!fd) return errno_status(code_for_errno(errno), path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_status(grpc::StatusCode::INTERNAL, path, errno);
  if (!S_ISREG(st.st_mode)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, path + ": not a regular file");
  }
  size_t want =
      std::min<size_t>(req->max_bytes() ? req->max_bytes() : kMaxIoChunkBytes, kMaxIoChunkBytes);
  std::string data(want, '\0');
  size_t have = 0;
  while (have < want) {
    ssize_t n = ::read(fd.get(), data.data() + have, want - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(code_for_errno(errno), path, errno);
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  data.resize(have);
  reply->set_data(std::move(data));
  reply->set_size(static_cast<uint64_t>(st.st_size));
  return grpc::Status::OK;
}

}  // namespace hull::agent::rpc
