// hull::container — the runc-mode lifecycle behind the `hull` CLI: one VM per
// container, a monitor process per container process (runtime/monitor/monitor.h), runc's
// state store with a per-container lock, status derived from reality
// (lifecycle.h), OCI hooks on the host (common/hooks).
//
// Process tree on the host while a container exists:
//
//   <caller: shell, containerd-shim-runc-v2, podman's conmon>
//     `- hull __monitor <id>        the container pid (--pid-file); own session
//          |- hull-vsock            }
//          |- virtiofsd (PID ns)    } the sandbox VM, children of the monitor
//          `- qemu-system-x86_64    }
//   <caller of `hull exec`>
//     `- hull __monitor <id> --exec-id E   one per exec'd process; no VM of its own
//
// When the container's process ends, its monitor stops the VM (agent
// DestroySandbox, QMP quit, kill), removes the mounts and the sandbox
// directory, and exits with the process's status. `delete` then removes the
// state; if the monitor was killed (SIGKILL cannot be forwarded), `delete`
// kills the VM processes it recorded (checking their start times) and removes
// what they left.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/oci/state.h"
#include "runtime/container/process_list.h"
#include "runtime/container/record.h"
#include "runtime/container/teardown.h"
#include "runtime/monitor/monitor.h"
#include "runtime/sandbox/agent_client.h"
#include "runtime/sandbox/container_client_impl.h"

namespace hull::container {

// What create and delete reach beyond this process's files, replaceable in
// tests (tests/unit/runtime/container/create_delete_test.cc); each one unset:
// the real one.
struct Seams {
  // The client of a container's agent (real: gRPC over the record's vsock socket).
  std::function<Result<std::shared_ptr<sandbox::ContainerClient>>(const Record&)> connect;
  // Starts the monitor, `sync_fd` its end of the handshake (real: spawn_monitor).
  std::function<Result<pid_t>(const MonitorArgs&, int sync_fd)> spawn_monitor;
  // Sees each teardown step as it starts (teardown.h).
  TeardownTrace trace;
};

// What every operation needs; built by the CLI from runc's global flags.
struct Context {
  std::string root = "/run/hull";
  std::string log_path;             // --log ("" = stderr)
  std::string log_format = "text";  // --log-format
  bool debug = false;
  bool systemd_cgroup = false;   // --systemd-cgroup: cgroupsPath is "slice:prefix:name"
  const Seams* seams = nullptr;  // null: the real ones
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;        // accepted: the guest always pivots into the rootfs
  bool no_new_keyring = false;  // accepted: the guest kernel's keyring is the VM's own
  int preserve_fds = 0;         // must be 0: fds cannot cross into the VM
};

// create: makes the container's host cgroup (runtime/hostcgroup: at
// linux.cgroupsPath, with the limits safe to mirror there), starts its
// monitor inside it, which boots the VM and creates the container in it,
// runs the prestart/createRuntime/createContainer hooks, writes the pid file.
// Returns the monitor's pid. On any error nothing is left behind.
Result<pid_t> create(const Context& ctx, const CreateOptions& o);

// Lifts the CPU quota create wrote on the container's host cgroup (found
// through its state under `root`): the VM's teardown is hull's work, not the
// container's, and at a small quota (0.1 CPU) a TCG teardown took seconds.
// The monitor calls it once the container's process has ended. Best effort.
void lift_host_cpu_quota(const std::string& root, const std::string& id);

// start: startContainer hooks, the agent's StartContainer, poststart hooks.
Status start(const Context& ctx, const std::string& id);

// The state with the status derived from reality (pid 0 once stopped).
Result<oci::State> state(const Context& ctx, const std::string& id);

// Every container under the root, with derived status; skips unreadable ones.
Result<std::vector<oci::State>> list(const Context& ctx);

Status kill(const Context& ctx, const std::string& id, int sig, bool all);

// delete: refuses a running or paused container unless `force` (then kills
// it first). Removes the VM leftovers and the host cgroup directories create
// made, runs poststop hooks, removes the state.
// `force` on a container that does not exist succeeds, as with runc.
Status remove(const Context& ctx, const std::string& id, bool force);

// Waits for a monitor to end and returns its status as a shell reports it
// (code, or 128 + signal). The monitor must be our child (hull run).
Result<int> wait_child_monitor(pid_t pid);

}  // namespace hull::container

namespace hull::container {

Status pause(const Context& ctx, const std::string& id);
Status resume(const Context& ctx, const std::string& id);

// The container's processes as the guest sees them (empty once stopped).
Result<std::vector<GuestProcessInfo>> processes(const Context& ctx, const std::string& id);
// The same with the container's user and group names (hull ps).
Result<GuestProcessList> process_list(const Context& ctx, const std::string& id);

// linux.resources JSON (`runc update` flags or -r FILE): the host values
// (runtime/hostcgroup/values.h) to the host cgroup, then all but the cpuset
// and realtime values (host only) to the guest.
Status update(const Context& ctx, const std::string& id, const std::string& resources_json);

struct ExecOptions {
  std::string id;
  std::string process_json;  // a complete OCI process object
  std::string pid_file;
  std::string console_socket;
  bool detach = false;
  bool ignore_paused = false;  // a paused container: wait for its resume, do not refuse
  // exec --cgroup: a cgroup below the container's in its VM (cgroup::exec_sub_cgroup's
  // form), which must exist; "": the container's own.
  std::string sub_cgroup;
};

// Starts another process in a running container through its own monitor.
// Detached: returns 0 once it runs. Otherwise waits and returns its status
// (code, or 128 + signal), forwarding the signals this process receives.
Result<int> exec(const Context& ctx, const ExecOptions& o);

// The process `runc exec ARGS` runs: the container's process (config.json)
// with these args, env added, and the other fields replaced when given.
struct ExecArgs {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::string user;  // "uid[:gid]"
  std::vector<std::string> additional_gids;
  std::vector<std::string> caps;
  bool tty = false;
  bool no_new_privs = false;
  std::string apparmor;
  std::string process_label;
};
Result<std::string> exec_process_json(const Context& ctx, const std::string& id, const ExecArgs& a);

// runc's "stats" event for the container: {"type":"stats","id":...,"data":{cpu,
// cpuset, memory, pids, blkio, ...}} with the counters of its cgroup in the
// guest (stats_event.h).
Result<nlohmann::ordered_json> stats_event(const Context& ctx, const std::string& id);

// The container's OOM kills as its agent's OomEvents stream reports them
// (hull events): next() blocks for the id of the next container with an OOM
// kill in the VM, nullopt once the stream ended (the VM stops); cancel(), from
// any thread, ends a blocked next() with Errc::NotRunning.
class OomEvents {
 public:
  Result<std::optional<std::string>> next();
  void cancel();

 private:
  friend Result<std::unique_ptr<OomEvents>> oom_events(const Context& ctx, const std::string& id);
  explicit OomEvents(sandbox::AgentClient client) : client_(std::move(client)) {}
  sandbox::AgentClient client_;
  std::unique_ptr<sandbox::OomEventReader> reader_;  // destroyed before client_
};

// Connects to a running container's agent for its OOM events;
// Errc::NotRunning once the container has stopped.
Result<std::unique_ptr<OomEvents>> oom_events(const Context& ctx, const std::string& id);

// Waits for a monitor that is our child, forwarding foreground_signals()
// (runtime/monitor/console.h) to it, those pending since before the call too (it forwards
// them into the guest), and returns its status as a shell reports it.
Result<int> wait_forwarding(pid_t pid);

}  // namespace hull::container
