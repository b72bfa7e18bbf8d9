#include "shim/pod_spec.h"

#include <map>

namespace hull::shim {

oci::Spec pod_member_spec(oci::Spec spec, pid_t pod_pid, const std::string& pod_hostname) {
  if (!spec.linux || !spec.linux->namespaces || pod_pid <= 0) return spec;
  static const std::map<std::string, std::string> kFile = {
      {"network", "net"}, {"ipc", "ipc"}, {"uts", "uts"}, {"pid", "pid"}};
  const std::string prefix = "/proc/" + std::to_string(pod_pid) + "/ns/";
  for (auto& ns : *spec.linux->namespaces) {
    if (!ns.path) continue;
    auto file = kFile.find(ns.type);
    if (file == kFile.end() || *ns.path != prefix + file->second) continue;
    ns.path.reset();
    if (ns.type == "uts" && !spec.hostname && !pod_hostname.empty()) spec.hostname = pod_hostname;
  }
  return spec;
}

}  // namespace hull::shim
