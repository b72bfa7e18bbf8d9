#include "agent/rpc/service.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "agent/proto/constants.h"
#include "agent/proto/error_codec.h"
#include "agent/rpc/guest_info.h"
#include "common/file.h"
#include "common/log.h"
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

// sysctl names: dotted words, no way out of /proc/sys.
bool valid_sysctl_name(const std::string& key) {
  if (key.empty() || key.size() > 256 || key.front() == '.' || key.back() == '.') return false;
  if (key.find("..") != std::string::npos) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

Status write_proc_sys(const std::string& key, const std::string& value) {
  std::string path = "/proc/sys/" + key;
  std::replace(path.begin() + 10, path.end(), '.', '/');
  return wrap(write_kernel_file(path, value), "CreateSandbox: sysctls." + key);
}

// Hostname, resolv.conf and sysctls of the guest (the containers' own UTS
// namespaces take their hostname from their specs).
Status set_up_sandbox(const CreateSandboxRequest& req, const std::string& shared_dir) {
  if (!req.shared_dir().empty() && req.shared_dir() != shared_dir) {
    return fail(Errc::Invalid,
                "CreateSandbox: shared_dir: the agent mounts the shared "
                "file system at " +
                    shared_dir + ", not " + req.shared_dir());
  }
  for (const auto& [key, value] : req.sysctls()) {
    if (!valid_sysctl_name(key)) {
      return fail(Errc::Invalid, "CreateSandbox: sysctls: bad name \"" + key.substr(0, 64) + "\"");
    }
  }
  if (!req.hostname().empty()) {
    if (req.hostname().size() > 64) {
      return fail(Errc::Invalid, "CreateSandbox: hostname: longer than 64 bytes");
    }
    if (::sethostname(req.hostname().data(), req.hostname().size()) != 0) {
      return fail_errno("CreateSandbox: hostname");
    }
  }
  if (req.dns_size() > 0) {
    std::string text;
    for (const std::string& line : req.dns()) {
      if (line.find('\n') != std::string::npos) {
        return fail(Errc::Invalid, "CreateSandbox: dns: a line holds a newline");
      }
      text += line + "\n";
    }
    std::error_code ec;
    std::filesystem::create_directories("/etc", ec);
    HULL_TRY(wrap(write_file_atomic("/etc/resolv.conf", text), "CreateSandbox: dns"));
  }
  for (const auto& [key, value] : req.sysctls()) HULL_TRY(write_proc_sys(key, value));
  return {};
}

}  // namespace

Result<std::unique_ptr<AgentService>> AgentService::create(ServiceOptions opts) {
  std::unique_ptr<AgentService> s(new AgentService(std::move(opts)));
  if (s->opts_.reaper) {
    HULL_ASSIGN(loop, IoLoop::start());
    s->loop_ = std::move(loop);
    HULL_ASSIGN(oom, OomMonitor::start(*s->loop_));
    s->oom_ = std::move(oom);
    s->registry_ = std::make_unique<ContainerRegistry>(RegistryOptions{
        .reaper = s->opts_.reaper, .oom = s->oom_.get(), .shared_dir = s->opts_.shared_dir});
  }
  return s;
}

AgentService::~AgentService() = default;

void AgentService::close_streams() {
  if (registry_) registry_->destroy_all();
  if (oom_) oom_->close_streams();
}

Result<ContainerRegistry*> AgentService::containers() {
  if (!registry_) {
    return fail(Errc::Unsupported,
                "container calls need the agent running as PID 1 (no reaper in this server)");
  }
  return registry_.get();
}

grpc::Status AgentService::CreateSandbox(grpc::ServerContext*, const CreateSandboxRequest* req,
                                         CreateSandboxResponse*) {
  try {
    if (auto st = set_up_sandbox(*req, opts_.shared_dir); !st) return to_grpc_status(st.error());
    return grpc::Status::OK;
  } catch (const std::exception& e) {
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string("CreateSandbox: ") + e.what());
  }
}

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
  reply->set_agent_ready_boottime_ns(ready_boottime_ns_.load());
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
  // Containers first: their processes die and their streams end before the
  // reply. Then nothing written in the guest may stay in its page cache, so
  // that the reply tells the host there is nothing left to lose: it may kill
  // the VM without waiting for the power-off, which runs after this reply has
  // gone out (the server drains its calls before on_destroy's receiver powers
  // the VM off). virtio-fs without writeback caching (virtiofsd's default)
  // sends plain writes to virtiofsd at once and a shared mmap's pages when
  // the mapping goes, so with every container process dead the cache is
  // normally clean; sync() only when it is not: a guest sync() is also a
  // syncfs() of the host's filesystem (FUSE_SYNCFS), which takes seconds on a
  // host with much written and not yet on disk.
  try {
    close_streams();
  } catch (const std::exception& e) {
    log::warn(std::string("DestroySandbox: ") + e.what());
  }
  if (!page_cache_clean()) ::sync();
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
