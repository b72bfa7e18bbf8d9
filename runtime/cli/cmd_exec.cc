// hull exec: runs another process in a running container, through a monitor
// of its own (its pid is the one --pid-file gets). Errors exit 255, like runc;
// otherwise the exit status is the process's (128 + N when killed by N).
#include <algorithm>
#include <optional>

#include "common/cgroup/path.h"
#include "common/file.h"
#include "runtime/cli/command.h"
#include "runtime/monitor/console.h"

namespace hull::cli {
namespace {

struct ExecFlags {
  std::string id;
  std::vector<std::string> args;
  container::ExecArgs exec;
  std::string process_file;
  std::string console_socket;
  std::string pid_file;
  bool detach = false;
  int preserve_fds = 0;
  std::vector<std::string> cgroup;
  bool ignore_paused = false;
};

constexpr int kExecFailed = 255;

int failed(const Error& e) {
  report_error(e);
  return kExecFailed;
}

int run_exec(const GlobalOptions& g, ExecFlags f) {
  auto ctx = context_of(g);
  if (f.preserve_fds > 0) {
    return failed(Error{Errc::Unsupported, 0,
                        "--preserve-fds: file descriptors cannot be passed into a hull "
                        "container's VM"});
  }
  std::string process_json;
  if (!f.process_file.empty()) {
    auto text = read_file(f.process_file, 4 << 20);
    if (!text) return failed(text.error());
    process_json = *text;
  } else {
    f.exec.args = f.args;
    auto j = container::exec_process_json(ctx, f.id, f.exec);
    if (!j) return failed(j.error());
    process_json = *j;
  }
  auto sub_cgroup = cgroup::exec_sub_cgroup(f.cgroup);
  if (!sub_cgroup) return failed(sub_cgroup.error());
  container::ExecOptions o;
  o.id = f.id;
  o.sub_cgroup = *sub_cgroup;
  o.process_json = process_json;
  o.pid_file = f.pid_file;
  o.console_socket = f.console_socket;
  o.detach = f.detach;
  o.ignore_paused = f.ignore_paused;
  // Until exec has reaped its monitor: a signal then is the process's (or,
  // before it runs, dropped as runc does), never the end of exec with the
  // terminal raw.
  std::optional<container::ForegroundSignalsBlocked> blocked;
  if (!f.detach) blocked.emplace();
  auto status = container::exec(ctx, o);
  if (!status) return failed(status.error().wrap("exec failed"));
  return *status;
}

}  // namespace

void end_exec_flags(std::vector<std::string>& args) {
  // Flags of `exec` that take a separate value.
  static const std::vector<std::string> kValueFlags = {"--console-socket",
                                                       "--cwd",
                                                       "-e",
                                                       "--env",
                                                       "-u",
                                                       "--user",
                                                       "-g",
                                                       "--additional-gids",
                                                       "-p",
                                                       "--process",
                                                       "--pid-file",
                                                       "--process-label",
                                                       "--apparmor",
                                                       "-c",
                                                       "--cap",
                                                       "--preserve-fds",
                                                       "--cgroup"};
  end_flags_at_id(args, "exec", kValueFlags);
}

Command exec_command() {
  return {
      "exec", "execute new process inside the container", [](CLI::App& sub) -> Action {
        auto f = std::make_shared<ExecFlags>();
        sub.add_option("id", f->id, "the container's id")->required();
        sub.add_option("command", f->args, "the command and its arguments");
        sub.add_option("--console-socket", f->console_socket,
                       "path to an AF_UNIX socket which will receive a file descriptor "
                       "referencing the master end of the console's pseudoterminal");
        sub.add_option("--cwd", f->exec.cwd, "current working directory in the container");
        sub.add_option("-e,--env", f->exec.env, "set environment variables")
            ->allow_extra_args(false);
        sub.add_flag("-t,--tty", f->exec.tty, "allocate a pseudo-TTY");
        sub.add_option("-u,--user", f->exec.user, "UID (format: <uid>[:<gid>])");
        sub.add_option("-g,--additional-gids", f->exec.additional_gids, "additional gids")
            ->allow_extra_args(false);
        sub.add_option("-p,--process", f->process_file, "path to the process.json");
        sub.add_flag("-d,--detach", f->detach, "detach from the container's process");
        sub.add_option("--pid-file", f->pid_file, "specify the file to write the process id to");
        sub.add_option("--process-label", f->exec.process_label,
                       "set the asm process label for the process commonly used with selinux");
        sub.add_option("--apparmor", f->exec.apparmor, "set the apparmor profile for the process");
        sub.add_flag("--no-new-privs", f->exec.no_new_privs,
                     "set the no new privileges value for the process");
        sub.add_option("-c,--cap", f->exec.caps,
                       "add a capability to the bounding set for the process")
            ->allow_extra_args(false);
        sub.add_option("--preserve-fds", f->preserve_fds,
                       "pass N additional file descriptors to the container (hull: only 0)");
        sub.add_option("--cgroup", f->cgroup,
                       "run the process in an (existing) sub-cgroup(s). Format is "
                       "[<controller>:]<cgroup>.")
            ->allow_extra_args(false);
        sub.add_flag("--ignore-paused", f->ignore_paused,
                     "allow exec in a paused container: the exec waits for its resume");
        sub.positionals_at_end(false);
        sub.allow_extras(false);
        return [f](const GlobalOptions& g) { return run_exec(g, *f); };
      }};
}

}  // namespace hull::cli
