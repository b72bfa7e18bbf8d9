// `start`: containerd's first call (runtime/v2/binary.go). In the bundle
// directory, with the task's runtime options on stdin:
//
//   options (stdin) -> ConfigPath -> $HULL_CONFIG for the daemon
//   config.json annotations -> the pod (address.h) -> the socket address
//   a live shim there already (a pod's later task)? -> `address`, print it
//   else listen -> `address` (atomically) -> re-exec as the daemon (own
//   session, fd 3 = the socket, stdio /dev/null) -> print the address
//
// containerd reads stdout and stderr together and dials what it read, so on
// success nothing but the address is printed.
#include <fcntl.h>
#include <unistd.h>

#include <google/protobuf/any.pb.h>

#include <cstdio>
#include <cstdlib>

#include "common/child_process.h"
#include "common/file.h"
#include "common/oci/spec.h"
#include "common/spawn.h"
#include "github.com/containerd/containerd/pkg/runtimeoptions/v1/api.pb.h"
#include "runtime/config/config.h"
#include "runtime/container/paths.h"
#include "runtime/sandbox/dir_guard.h"
#include "shim/address.h"
#include "shim/commands.h"
#include "ttrpc/socket.h"

namespace hull::shim {
namespace {

constexpr size_t kMaxOptionsBytes = 1 << 20;
constexpr std::string_view kOptionsType = "runtimeoptions.v1.Options";

Result<std::string> read_stdin() {
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == EBADF) return data;  // no stdin at all
      return fail_errno("reading the runtime options on stdin");
    }
    if (n == 0) return data;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxOptionsBytes) {
      return fail(Errc::Invalid, "the runtime options on stdin exceed 1 MiB");
    }
  }
}

// The ConfigPath of the task's runtime options, or "".
Result<std::string> config_path_from_options(const std::string& data) {
  if (data.empty()) return std::string();
  google::protobuf::Any any;
  if (!any.ParseFromString(data)) {
    return fail(Errc::Invalid, "the runtime options on stdin are not a protobuf Any");
  }
  std::string_view type = any.type_url();
  if (auto slash = type.rfind('/'); slash != std::string_view::npos) type.remove_prefix(slash + 1);
  if (type != kOptionsType) return std::string();  // options of another runtime: nothing for hull
  runtimeoptions::v1::Options o;
  if (!o.ParseFromString(any.value())) {
    return fail(Errc::Invalid,
                "the runtime options on stdin are not a valid " + std::string(kOptionsType));
  }
  return o.config_path();
}

void adjust_oom_score(pid_t child) {
  auto parent = read_file("/proc/" + std::to_string(::getppid()) + "/oom_score_adj", 64);
  if (!parent) return;
  int score = std::atoi(parent->c_str());
  score = std::min(score + 1, 1000);
  std::string path = "/proc/" + std::to_string(child) + "/oom_score_adj";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return;
  std::string v = std::to_string(score);
  (void)!::write(fd.get(), v.data(), v.size());
}

Result<std::string> start(const ShimFlags& f) {
  if (f.ns.empty() || f.id.empty() || f.address.empty()) {
    return fail(Errc::Invalid, "start needs -namespace, -id and -address (containerd passes them)");
  }
  HULL_ASSIGN(options, read_stdin());
  HULL_ASSIGN(config_path, config_path_from_options(options));
  if (!config_path.empty()) {
    HULL_ASSIGN(text, wrap(read_file(config_path, config::kMaxConfigFileBytes),
                           "the runtime options' ConfigPath"));
    HULL_TRY(config::parse(text, config_path));
    ::setenv(config::kConfigEnv, config_path.c_str(), 1);  // the daemon's config
  }
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return fail_errno("getcwd (the bundle)");
  const std::string bundle = cwd;
  HULL_ASSIGN(spec, oci::load_spec_file(bundle + "/config.json"));
  HULL_ASSIGN(group, group_of(spec.annotations.value_or(oci::StringMap{}), f.id));

  const std::string address = socket_address(f.address, f.ns, group);
  const std::string path = socket_path_of(address);
  HULL_TRY(sandbox::make_dirs(path.substr(0, path.rfind('/'))));
  auto listener = ttrpc::listen_unix(path);
  if (!listener && listener.error().code == Errc::Exists) {
    if (ttrpc::connect_unix(path)) {
      // The pod's shim serves this task too.
      HULL_TRY(write_file_atomic(bundle + "/address", address));
      return address;
    }
    ::unlink(path.c_str());  // a dead shim's socket
    listener = ttrpc::listen_unix(path);
  }
  if (!listener) return fail(std::move(listener.error()));
  struct Unlink {
    std::string path;
    bool keep = false;
    ~Unlink() {
      if (!keep) ::unlink(path.c_str());
    }
  } unlink_on_error{path};

  HULL_TRY(write_file_atomic(bundle + "/address", address));
  HULL_ASSIGN(exe, container::self_exe());
  SpawnOptions so;
  so.argv = {exe, "-namespace", f.ns, "-id", f.id, "-address", f.address};
  if (!f.publish_binary.empty())
    so.argv.insert(so.argv.end(), {"-publish-binary", f.publish_binary});
  so.argv.insert(so.argv.end(), {"-socket", address});
  if (f.debug) so.argv.push_back("-debug");
  so.fds = {{listener->get(), kListenerFd}};
  // Its own session, and stdio on /dev/null: containerd's pipes stay with `start`.
  so.group = ProcessGroup::NewSession;
  HULL_ASSIGN(daemon, spawn(kBinaryName, so));
  adjust_oom_score(daemon.pid());
  daemon.detach();
  unlink_on_error.keep = true;
  return address;
}

}  // namespace

int cmd_start(const ShimFlags& f) {
  auto address = start(f);
  if (!address) {
    std::fprintf(stderr, "%s: start: %s\n", kBinaryName, address.error().what().c_str());
    return 1;
  }
  std::fputs(address->c_str(), stdout);
  return 0;
}

}  // namespace hull::shim
