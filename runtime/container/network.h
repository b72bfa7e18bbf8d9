// The container's network in runc mode: which namespace the VM serves, the
// monitor's place in it, and the guest's side of it (docs/networking.md).
//
//   config.json linux.namespaces      what hull does
//   -------------------------------   ---------------------------------------
//   no "network" entry                 refused: it means the caller's namespace
//     (podman --network host, ctr       (the host's), which a VM cannot share
//      --net-host, hostNetwork pods)
//   "network" without a path           the monitor unshares a new namespace
//     (docker bridge, user-defined,     before the create-time hooks run, so
//      --network none)                  docker's setkey hook configures it; then
//                                      its interfaces are wired to the VM
//   "network" with a path              the monitor joins it (podman, CNI,
//     (podman, CNI, ip netns)           ip netns) and wires its interfaces
//   the path is the host's namespace   refused: a VM cannot share it
//     or the caller's (--network host)
//   the path is /proc/<pid>/ns/net     refused: another process's namespace
//     (--network container:X)           (its interfaces are that container's)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent.pb.h"
#include "common/error.h"
#include "common/oci/spec.h"
#include "runtime/network/plan.h"
#include "runtime/network/wiring.h"
#include "runtime/sandbox/agent_client.h"
#include "runtime/sandbox/sandbox.h"

namespace hull::container {

enum class NetMode { None, New, Path };

struct NetworkChoice {
  NetMode mode = NetMode::None;
  std::string path;  // NetMode::Path
};

// Pure: the choice config.json's linux.namespaces makes.
NetworkChoice network_choice(const oci::Spec& spec);

// Pure: the pid when `path` names a process's namespace file
// (/proc/<pid>/ns/net, /proc/<pid>/task/<tid>/ns/net), else 0.
int process_netns_pid(const std::string& path);

// Refuses a spec without a network namespace (it asks for the caller's) and,
// for NetMode::Path, the host's namespace (init's), the namespace this
// process runs in (the caller's: `docker --network host` inside a namespace
// of its own), and another process's (`--network container:X`), with an
// error saying why a VM cannot share it. Errc::Unsupported.
Status check_network_choice(const NetworkChoice& c);

// The monitor, before any thread exists: NetMode::New unshares a network
// namespace and brings its loopback up; NetMode::Path joins the path (checked
// again here); NetMode::None stays.
Status enter_network(const NetworkChoice& c);

// What the monitor made in its namespace for the VM.
struct VmNetwork {
  std::string netns;  // the namespace, as errors name it
  network::Plan plan;
  std::unique_ptr<network::Wiring> wiring;  // null without NICs

  // The VM's NICs for SandboxOptions::nics (fds stay owned by `wiring`).
  std::vector<sandbox::SandboxNic> sandbox_nics() const;
};

// The monitor, after the create-time hooks: scans the namespace it is in,
// plans and wires it. NetMode::None: nothing (loopback only).
Result<VmNetwork> wire_network(const NetworkChoice& c);

// Pure: the agent's requests for a plan.
std::vector<agent::Interface> guest_interfaces(const network::Plan& plan);
agent::Routes guest_routes(const network::Plan& plan);
agent::Neighbors guest_neighbours(const network::Plan& plan);

// Pure: how errors name the namespace of `c` whose inode is `ino`:
// "<path> (net:[ino])", or "net:[ino], which hull made for the container".
std::string describe_netns(const NetworkChoice& c, uint64_t ino);

// After boot, in Kata's order: UpdateInterface for each NIC, UpdateRoutes,
// AddNeighbors (the namespace's permanent entries); then checks that every
// wired interface is still there (one deleted while the VM booted would
// leave the guest's NIC with no way out: Errc::NotFound, saying which).
Status configure_guest_network(sandbox::AgentClient& agent, const VmNetwork& net);

}  // namespace hull::container
