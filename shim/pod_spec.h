// The spec of a task joining its pod's VM, as the shim hands it on.
//
// CRI gives a pod's containers the sandbox task's namespaces by path,
// /proc/<sandbox task pid>/ns/{net,ipc,uts,pid}, and that pid is the pod's
// QEMU (every task of the pod reports it). Those namespaces are the VM's:
//
//   network  the path goes (the container stays in the VM's namespace, which
//            holds the pod's interfaces; guest_spec does the same for every
//            network path)
//   uts      a namespace of its own with the pod's hostname (the sandbox
//            spec's), as the pod's containers see it with runc
//   ipc, pid a namespace of its own: the guest has no process of the pod's
//            to join by path (shareProcessNamespace and IPC between a pod's
//            containers do not cross container boundaries in the VM)
//
// Any other path (another process's namespace) stays, and the guest spec
// refuses it with a message naming it.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/oci/spec.h"

namespace hull::shim {

// Pure. `pod_pid`: the pid the pod's tasks report (QEMU's); `pod_hostname`:
// the sandbox spec's hostname ("" when none).
oci::Spec pod_member_spec(oci::Spec spec, pid_t pod_pid, const std::string& pod_hostname);

}  // namespace hull::shim
