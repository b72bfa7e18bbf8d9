// Helpers of the agent integration tests and bench: a busybox rootfs on the
// host, OCI specs for it, and a container that is shared into a sandbox,
// created through the agent and removed again on scope exit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/oci/spec.h"
#include "runtime/sandbox/container_client_impl.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/share/rootfs.h"

namespace hull::sandbox::testing {

// /bin/busybox with its applet links in <dir>/bin, the usual mount points,
// /etc/passwd. Returns false when busybox-static is missing.
bool make_busybox_rootfs(const std::string& dir, std::string* why);

// runc's default spec for a container `id` of the sandbox: root.path is the
// shared-dir path of its rootfs (read-only), pipes, args `args`, hostname
// "box", a tmpfs on /tmp.
oci::Spec busybox_spec(const std::string& id, std::vector<std::string> args);
// The spec's process as the JSON object ExecProcess takes.
std::string process_json(const oci::Process& p);
// `sh -c script` as an exec'd process (pipes, cwd /).
oci::Process shell_process(const std::string& script);

// A container of the sandbox: rootfs shared, CreateContainer done. The
// destructor removes it (RemoveContainer) and unshares the rootfs.
class TestContainer {
 public:
  static Result<std::unique_ptr<TestContainer>> create(Sandbox& sb, const std::string& rootfs,
                                                       const std::string& id, const oci::Spec& spec,
                                                       StdioMode stdio = {});
  ~TestContainer();
  const std::string& id() const { return id_; }
  ContainerClient& client() { return client_; }
  Status remove();
  // Only unmounts the rootfs (the sandbox is already gone).
  Status unshare();

 private:
  TestContainer(Sandbox& sb, std::string id) : client_(sb.agent()), id_(std::move(id)) {}
  GrpcContainerClient client_;
  std::string id_;
  SharedRootfs share_;
  bool removed_ = false;
};

// Reads a stream to EOF into a string.
Result<std::string> read_all(ContainerClient& c, const std::string& id, const std::string& exec_id,
                             OutputStream which,
                             std::chrono::milliseconds timeout = std::chrono::seconds(120));

}  // namespace hull::sandbox::testing
