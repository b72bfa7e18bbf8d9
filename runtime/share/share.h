// Sharing one container's files into its sandbox's shared/ directory (which
// virtiofsd exports to the guest), and the spec the guest gets.
//
//   shared/containers/<id>/rootfs      bind of the bundle's root.path (ro if root.readonly;
//                                      sandbox::SharedRootfs)
//   shared/containers/<id>/mounts/<n>/<name>
//                                      bind of the spec's n-th bind mount source (a
//                                      directory or a file: volumes, docker's
//                                      /etc/hosts, /etc/resolv.conf, /etc/hostname),
//                                      named as the source is (bind_name), so the
//                                      root of the mount the container sees in
//                                      /proc/self/mountinfo ends in that name, as
//                                      with runc
//
// The directories hull makes are 0711: a container with a user namespace
// resolves its rootfs and bind sources as a mapped, non-root uid, which must
// be able to traverse them (as runc needs the bundle to be reachable by it).
// They list nothing and the sandbox directory above them is 0700.
//
// A source is opened once (O_PATH) and bound from that descriptor, so a
// symlink swapped in afterwards cannot redirect the bind; the targets are
// created by hull below a directory it just made, with O_NOFOLLOW. Read-only
// binds are made read-only before they are attached below the shared dir
// (recursively for "rro"), so virtiofsd's copy is read-only too and neither
// the guest nor virtiofsd can write through them. The guest mounts each one
// at its destination with the spec's options (ro stays ro).
//
// The guest spec: root.path and the sources of the host's bind mounts relative
// to the shared dir (the agent resolves them there; mount order is kept), for
// each rbind the host mount points below its source (oci::kSubmountsKey; a
// caller's value of that key is dropped), a network
// namespace path dropped (the VM has no NIC yet; the container gets a fresh
// network namespace with loopback). Paths of other namespaces cannot be
// joined across VMs: Errc::Unsupported naming them. A container without a
// mount namespace gets one in the guest (it is alone in its VM; sharing the
// agent's would pivot the agent into the container's rootfs), and one without
// a cgroup namespace gets one too (see guest_spec). A seccomp rule with
// SCMP_ACT_NOTIFY is refused (Errc::Unsupported naming the rule): its
// notification fd would have to reach the host's listenerPath, and no fd
// leaves the VM.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/oci/spec.h"
#include "common/unique_fd.h"
#include "runtime/sandbox/mount_guard.h"
#include "runtime/share/rootfs.h"

namespace hull::container {

// One shared bind source. The guest can rename and replace entries of the
// shared dir through virtio-fs, so the mount point and mounts/<n> are removed
// through descriptors hull opened when it made them, never by a path.
struct SharedMount {
  sandbox::MountGuard mount;  // mounts/<n>/<name>
  UniqueFd dir;               // mounts/<n> (O_PATH)
  std::string dir_name;       // "<n>"
  std::string name;           // bind_name(source)
};

struct SharedContainer {
  sandbox::SharedRootfs rootfs;
  UniqueFd mounts_dir;              // mounts/ (O_PATH)
  std::vector<SharedMount> mounts;  // unmounted (reverse order) on destruction
  std::string guest_spec_json;

  SharedContainer() = default;
  SharedContainer(SharedContainer&&) = default;
  SharedContainer& operator=(SharedContainer&&) = default;
  ~SharedContainer();
  Status unshare();  // unmounts now, last first, and removes the mount points
};

// The name a bind source gets below mounts/<n>/: its last path component
// ("/etc" -> "etc", "/var/lib/x/hosts/" -> "hosts"); "source" when there is
// none ("/", ".", "..", empty).
std::string bind_name(const std::string& source);

// Each linux.namespaces[].path must name a namespace of its entry's type (as
// runc checks when it joins it), also the network paths guest_spec drops.
Status check_namespace_paths(const oci::Spec& spec);

// True for a mount the host must bind into the guest: type "bind", or an
// option "bind"/"rbind" (docker writes type "bind", podman/containerd no type).
bool is_bind_mount(const oci::Mount& m);

// How read-only the host's bind of a mount is, from its options in order as
// runc applies them: "ro"/"rw" give the bind's own flag (the last one
// counts); "rro"/"rrw" (the last one counts) then set or clear it on the bind
// and everything mounted below it.
struct BindReadonly {
  bool top = false;
  std::optional<bool> recursive;  // "rro": true, "rrw": false, neither: nullopt
  bool operator==(const BindReadonly&) const = default;
};
BindReadonly bind_readonly(const oci::Mount& m);

// Pure: the spec the guest gets (see above).
Result<oci::Spec> guest_spec(const oci::Spec& spec, const std::string& id);

Result<SharedContainer> share_container(const std::string& shared_dir, const std::string& id,
                                        const oci::Spec& spec, const std::string& bundle);

}  // namespace hull::container
