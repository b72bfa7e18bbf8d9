// The container init: the re-executed binary on the far side of sync.h's
// diagram. Single-threaded from its first instruction, so plain fork-style
// clone() is safe here.
//
//   bootstrap (in the agent's namespaces)   joins / creates namespaces, then
//                                           clone(CLONE_PARENT): the container
//                                           process becomes the agent's child
//                                           (and pid 1 of a new pid namespace)
//   container process                       rootfs, process setup, Ready,
//                                           waits for Start, execve
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "agent/engine/container_init.h"
#include "agent/engine/container_init_request.h"
#include "agent/engine/fs_util.h"
#include "agent/engine/mounts.h"
#include "agent/engine/plan.h"
#include "agent/engine/process_setup.h"
#include "agent/engine/pty.h"
#include "agent/engine/spawn.h"
#include "agent/engine/start_hooks.h"
#include "agent/engine/str.h"
#include "agent/engine/sync.h"
#include "common/file.h"
#include "common/oci/spec.h"

namespace hull::engine {
namespace {

constexpr std::chrono::milliseconds kNoDeadline{-1};

// Runs `fn` in a child whose parent is our parent (the agent). Returns the
// child's pid in the parent, 0 in the child.
pid_t clone_parent() {
  // Raw clone: glibc has no CLONE_PARENT fork. Both stacks are private copies
  // (no CLONE_VM), so the child simply returns 0 here.
  return static_cast<pid_t>(
      ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0));
}

Status write_time_offsets(const ContainerPlan& plan) {
  std::string text;
  for (const auto& t : plan.time_offsets) text += cat(t.clock, " ", t.secs, " ", t.nanosecs, "\n");
  if (text.empty()) return {};
  auto r = write_kernel_file("/proc/self/timens_offsets", text);
  if (!r) return fail(std::move(r.error()).wrap("linux.timeOffsets"));
  return {};
}

// The part shared by create and exec once in the final namespaces.
// `plan` is mutable: switch_user may add HOME.
Status setup_process(ProcessPlan& p, const std::optional<SeccompProgram>& seccomp) {
  HULL_TRY(apply_rlimits(p));
  HULL_TRY(apply_oom_score_adj(p));
  HULL_TRY(apply_scheduling(p));
  HULL_TRY(set_no_new_privs(p));
  if (seccomp && !p.no_new_privileges) {
    auto r = load_seccomp(*seccomp);
    if (!r) return fail(std::move(r.error()).wrap("linux.seccomp"));
  }
  HULL_ASSIGN(chdir_again, enter_cwd_privileged(p));
  if (p.caps) {
    HULL_TRY(drop_bounding_set(*p.caps));
    HULL_TRY(keep_caps(true));
  }
  HULL_TRY(switch_user(p, false));
  if (p.caps) {
    HULL_TRY(keep_caps(false));
    HULL_TRY(apply_capabilities(*p.caps));
  }
  HULL_TRY(enter_cwd(p, chdir_again));
  return {};
}

// The pty master goes to the engine; the container keeps only the slave.
bool send_console(int sync, UniqueFd master) {
  return static_cast<bool>(send_sync_fd(sync, SyncMsg::Console, master.get()));
}

// After Ready: wait for Start, load the NNP-mode seccomp program, run the
// startContainer hooks (`hooks`; state: `hook_state`), exec.
int wait_start_and_exec(int sync, ProcessPlan& p, const std::string& path,
                        const std::optional<SeccompProgram>& seccomp,
                        const std::vector<hooks::Hook>& hooks = {},
                        const std::string& hook_state = {}) {
  auto start = expect_sync(sync, SyncMsg::Start, kNoDeadline);
  if (!start) return 1;  // the engine went away or gave up: never run the process
  if (seccomp && p.no_new_privileges) {
    auto r = load_seccomp(*seccomp);
    if (!r) {
      (void)send_sync(sync, SyncMsg::Error,
                      encode_error(std::move(r.error()).wrap("linux.seccomp")));
      return 1;
    }
  }
  if (auto r = run_start_hooks(hooks, hook_state); !r) {
    (void)send_sync(sync, SyncMsg::Error, encode_error(r.error()));
    return 1;
  }
  Error e = exec_process(p, path);
  (void)send_sync(sync, SyncMsg::Error, encode_error(e));
  return 127;
}

// Terminal mode: the pty comes from the container's devpts (pty.h); its master
// goes to the engine before Ready.
Status container_setup(const InitRequest& req, ContainerPlan& plan, std::string* exe,
                       UniqueFd* console) {
  ProcessPlan& p = plan.process;
  if (::setsid() < 0) return fail_errno("setsid");
  RootfsContext ctx{req.rootfs, req.bundle, plan.has_namespace(CLONE_NEWUSER)};
  HULL_TRY(prepare_root(plan, ctx));
  {
    UniqueFd rootfd(::open(req.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd) return fail_errno(cat("root.path: open ", req.rootfs));
    HULL_TRY(mount_all(plan, rootfd.get(), ctx));
    HULL_TRY(setup_dev(plan, rootfd.get(), ctx));
  }
  HULL_TRY(pivot_into(ctx));
  if (p.terminal) {
    HULL_ASSIGN(master, setup_container_tty(p.console_rows, p.console_cols, true));
    *console = std::move(master);
  }
  HULL_TRY(finish_rootfs(plan));
  if (plan.hostname && ::sethostname(plan.hostname->data(), plan.hostname->size()) < 0) {
    return fail_errno("hostname: sethostname");
  }
  if (plan.domainname && ::setdomainname(plan.domainname->data(), plan.domainname->size()) < 0) {
    return fail_errno("domainname: setdomainname");
  }
  if (plan.personality && ::personality(*plan.personality) < 0)
    return fail_errno("linux.personality: personality");
  HULL_TRY(setup_process(p, req.seccomp));
  HULL_ASSIGN(path, find_executable(p));
  *exe = std::move(path);
  return {};
}

Status exec_setup(const InitRequest& req, ProcessPlan& p, std::string* exe, UniqueFd* console) {
  if (::setsid() < 0) return fail_errno("setsid");
  if (p.terminal) {
    HULL_ASSIGN(master, setup_container_tty(p.console_rows, p.console_cols, false));
    *console = std::move(master);
  }
  HULL_TRY(setup_process(p, req.seccomp));
  HULL_ASSIGN(path, find_executable(p));
  *exe = std::move(path);
  return {};
}

// The release pipe keeps the new process from running before the engine holds
// its pidfd (PidAck), so it can never be reaped and its pid reused unnoticed.
Result<int> fork_container_process(int sync, UniqueFd* release_read) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) return fail_errno("pipe");
  UniqueFd rd(pipefd[0]), wr(pipefd[1]);
  pid_t pid = clone_parent();
  if (pid < 0) return fail_errno("clone the container process");
  if (pid == 0) {
    wr.reset();
    char c = 0;
    ssize_t n;
    while ((n = ::read(rd.get(), &c, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) ::_exit(1);  // the bootstrap failed after cloning us
    *release_read = std::move(rd);
    return 0;
  }
  rd.reset();
  HULL_TRY(send_sync(sync, SyncMsg::ChildPid, std::to_string(pid)));
  HULL_TRY(expect_sync(sync, SyncMsg::PidAck, kNoDeadline));
  if (::write(wr.get(), "x", 1) != 1) return fail_errno("release the container process");
  return pid;
}

// Returns the exit code of this process (bootstrap: 0 once the child runs).
int run_create(int sync, const InitRequest& req) {
  auto fail_out = [&](const Error& e) {
    (void)send_sync(sync, SyncMsg::Error, encode_error(e));
    return 1;
  };
  auto spec = oci::parse_spec(req.spec_json, "config.json");
  if (!spec) return fail_out(spec.error());
  auto plan = plan_container(*spec);
  if (!plan) return fail_out(plan.error());

  // Open every path first: they name files in the agent's mount namespace.
  std::vector<std::pair<int, UniqueFd>> joins;
  for (const auto& ns : plan->namespaces) {
    if (!ns.path) continue;
    UniqueFd fd(::open(ns.path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
      return fail_out(
          Error{Errc::System, errno, cat("linux.namespaces ", ns.type, ": open ", *ns.path)});
    joins.emplace_back(ns.flag, std::move(fd));
  }
  for (auto& [flag, fd] : joins) {  // user namespace first (plan order)
    if (::setns(fd.get(), flag) < 0) {
      return fail_out(Error{Errc::System, errno,
                            cat("linux.namespaces ", namespace_proc_name(flag), ": setns")});
    }
  }
  joins.clear();
  if (plan->creates_userns()) {
    if (::unshare(CLONE_NEWUSER) < 0)
      return fail_out(Error{Errc::System, errno, "unshare(CLONE_NEWUSER)"});
    if (auto r = send_sync(sync, SyncMsg::UsernsCreated); !r) return fail_out(r.error());
    if (auto r = expect_sync(sync, SyncMsg::UsernsMapped, kNoDeadline); !r)
      return fail_out(r.error());
    if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0) {
      return fail_out(
          Error{Errc::System, errno, "linux.uidMappings: container uid/gid 0 must be mapped"});
    }
  }
  int flags = 0;
  for (const auto& ns : plan->namespaces) {
    if (!ns.path && ns.flag != CLONE_NEWUSER) flags |= ns.flag;
  }
  if (flags && ::unshare(flags) < 0)
    return fail_out(Error{Errc::System, errno, "linux.namespaces: unshare"});
  if (auto r = write_time_offsets(*plan); !r) return fail_out(r.error());

  UniqueFd release;
  auto pid = fork_container_process(sync, &release);
  if (!pid) return fail_out(pid.error());
  if (*pid > 0) return 0;  // bootstrap done

  release.reset();
  std::string exe;
  UniqueFd console;
  if (auto r = container_setup(req, *plan, &exe, &console); !r) return fail_out(r.error());
  if (console && !send_console(sync, std::move(console))) return 1;
  if (auto r = send_sync(sync, SyncMsg::Ready); !r) return 1;
  // The environment as the process will have it (switch_user may have added HOME).
  auto hooks = start_hooks(*spec, plan->process.env);
  std::string state =
      hooks.empty() ? std::string() : start_hook_state(*spec, req.id, req.state_bundle, ::getpid());
  return wait_start_and_exec(sync, plan->process, exe, req.seccomp, hooks, state);
}

int run_exec(int sync, const InitRequest& req) {
  auto fail_out = [&](const Error& e) {
    (void)send_sync(sync, SyncMsg::Error, encode_error(e));
    return 1;
  };
  auto spec = oci::parse_spec(req.spec_json, "exec");
  if (!spec) return fail_out(spec.error());
  if (!spec->process) return fail_out(Error{Errc::Invalid, 0, "exec: process is required"});
  auto proc = plan_process(*spec->process, "process");
  if (!proc) return fail_out(proc.error());
  for (const auto& j : req.join) {
    if (::setns(j.fd, j.flag) < 0) {
      return fail_out(
          Error{Errc::System, errno,
                cat("exec: join the container's ", namespace_proc_name(j.flag), " namespace")});
    }
    ::close(j.fd);
  }
  UniqueFd release;
  auto pid = fork_container_process(sync, &release);
  if (!pid) return fail_out(pid.error());
  if (*pid > 0) return 0;
  release.reset();
  std::string exe;
  UniqueFd console;
  if (auto r = exec_setup(req, *proc, &exe, &console); !r) return fail_out(r.error());
  if (console && !send_console(sync, std::move(console))) return 1;
  if (auto r = send_sync(sync, SyncMsg::Ready); !r) return 1;
  return wait_start_and_exec(sync, *proc, exe, req.seccomp);
}

}  // namespace

std::string encode_request(const InitRequest& r) {
  nlohmann::json j;
  j["mode"] = r.mode == InitMode::Create ? "create" : "exec";
  j["spec"] = r.spec_json;
  j["rootfs"] = r.rootfs;
  j["bundle"] = r.bundle;
  j["id"] = r.id;
  j["state_bundle"] = r.state_bundle;
  if (r.seccomp) j["seccomp"] = {{"bpf", hex_encode(r.seccomp->bpf)}, {"flags", r.seccomp->flags}};
  j["join"] = nlohmann::json::array();
  for (const auto& x : r.join) j["join"].push_back({{"flag", x.flag}, {"fd", x.fd}});
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<InitRequest> decode_request(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [] { return fail(Errc::GuestProtocol, "init: malformed Config message"); };
  if (j.is_discarded() || !j.is_object()) return bad();
  InitRequest r;
  auto str = [&](const char* k, std::string& out) {
    if (!j.contains(k) || !j[k].is_string()) return false;
    out = j[k].get<std::string>();
    return true;
  };
  std::string mode;
  if (!str("mode", mode) || !str("spec", r.spec_json) || !str("rootfs", r.rootfs) ||
      !str("bundle", r.bundle) || !str("id", r.id) || !str("state_bundle", r.state_bundle))
    return bad();
  if (mode != "create" && mode != "exec") return bad();
  r.mode = mode == "create" ? InitMode::Create : InitMode::Exec;
  if (j.contains("seccomp")) {
    const auto& s = j["seccomp"];
    if (!s.is_object() || !s.contains("bpf") || !s["bpf"].is_string() || !s.contains("flags") ||
        !s["flags"].is_number_unsigned()) {
      return bad();
    }
    HULL_ASSIGN(bpf, hex_decode(s["bpf"].get<std::string>()));
    r.seccomp = SeccompProgram{std::move(bpf), s["flags"].get<uint32_t>()};
  }
  if (!j.contains("join") || !j["join"].is_array()) return bad();
  for (const auto& x : j["join"]) {
    if (!x.is_object() || !x.contains("flag") || !x["flag"].is_number_integer() ||
        !x.contains("fd") || !x["fd"].is_number_integer()) {
      return bad();
    }
    r.join.push_back({x["flag"].get<int>(), x["fd"].get<int>()});
  }
  return r;
}

std::optional<int> maybe_run_init(int argc, char** argv) {
  if (argc < 2 || argv[1] != kInitArg) return std::nullopt;
  // Nothing the agent leaked may reach the container: keep stdio, the sync
  // socket and the namespace fds the engine placed from kFirstJoinFd on.
  auto msg = expect_sync(kSyncFd, SyncMsg::Config, kNoDeadline);
  if (!msg) return 1;
  auto req = decode_request(*msg);
  if (!req) {
    (void)send_sync(kSyncFd, SyncMsg::Error, encode_error(req.error()));
    return 1;
  }
  int keep = kSyncFd;
  for (const auto& j : req->join) keep = std::max(keep, j.fd);
  ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
  // Everything kept closes at exec. Marked now, not just before exec: by then the
  // container's seccomp filter may refuse close_range, and a sync socket that
  // survives exec would leave start waiting for an EOF that never comes.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  return req->mode == InitMode::Create ? run_create(kSyncFd, *req) : run_exec(kSyncFd, *req);
}

}  // namespace hull::engine
