#include "shim/pod.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <csignal>
#include <vector>

#include "common/log.h"
#include "common/proc_stat.h"
#include "runtime/config/config.h"
#include "runtime/container/paths.h"
#include "runtime/container/proc.h"
#include "runtime/container/sizing.h"
#include "runtime/network/netns.h"

namespace hull::shim {
namespace {

// Whether a linux.cgroupsPath is systemd's "slice:prefix:name" form (CRI
// with SystemdCgroup) rather than a cgroupfs path.
bool systemd_cgroups_path(const std::string& path) {
  return !path.starts_with('/') && path.find(':') != std::string::npos;
}

ProcRef proc_ref(const char* name, pid_t pid) {
  ProcRef p{name, pid, 0};
  if (auto st = read_proc_stat(pid, kProcStatStartTime)) p.start = st->start_time;
  return p;
}

}  // namespace

Pod::Pod(PodOptions o) : opts_(std::move(o)) {
  record_.pod = opts_.id;
  record_.address = opts_.address;
}

Pod::~Pod() {
  if (auto st = stop(); !st) log::warn(st.error().what());
}

Status Pod::register_shim() {
  record_.shim = self_ref("containerd-shim-hull-v2");
  return write_record(record_path(opts_.root, opts_.id), record_);
}

Status Pod::boot(const oci::Spec& first, std::function<void(const std::string&)> on_oom) {
  if (sandbox_) return {};
  HULL_ASSIGN(cfg, config::load());
  container::resolve_guest_image(cfg);
  HULL_ASSIGN(size, container::pod_vm_size(first, cfg.vm));
  HULL_ASSIGN(vsock, container::find_hull_vsock());
  // Only a path names the pod's network: the shim's own namespace (an entry
  // without a path, `ctr run`) is containerd's, never the VM's to take.
  container::NetworkChoice net_choice = container::network_choice(first);
  if (net_choice.mode != container::NetMode::Path) net_choice = {};
  if (net_choice.mode == container::NetMode::Path) {
    HULL_TRY(container::check_network_choice(net_choice));
  }

  std::optional<hostcgroup::Cgroup> cgroup;
  std::optional<hostcgroup::SelfJoin> in_cgroup;
  if (first.linux && first.linux->cgroups_path && !first.linux->cgroups_path->empty()) {
    oci::Spec where = first;
    where.linux->resources.reset();
    HULL_ASSIGN(cg, wrap(hostcgroup::Cgroup::create(
                             where, systemd_cgroups_path(*first.linux->cgroups_path), opts_.id),
                         "the pod's host cgroup"));
    cgroup.emplace(std::move(cg));
    // As in runc mode: the VM's RAM plus the host overhead (the shim takes
    // the monitor's share of it), so a guest cannot make the pod's host
    // processes use more.
    HULL_TRY(wrap(cgroup->limit_memory(container::host_memory_limit_bytes(size.memory_mib)),
                  "the pod's host cgroup"));
    HULL_ASSIGN(joined, wrap(cgroup->join_self(), "the pod's host cgroup"));
    in_cgroup.emplace(std::move(joined));
  }

  sandbox::SandboxOptions so;
  so.id = opts_.id;
  so.root = opts_.root;
  so.config = cfg;
  so.config.vm.vcpus = size.vcpus;
  so.config.vm.memory_mib = size.memory_mib;
  so.hull_vsock_path = vsock;
  log::info("pod " + opts_.id + ": booting its VM (" + std::to_string(size.vcpus) + " vCPUs, " +
            std::to_string(size.memory_mib) + " MiB, config " + cfg.source +
            (net_choice.mode == container::NetMode::Path ? ", network " + net_choice.path : "") +
            ")");
  auto net = std::make_unique<container::VmNetwork>();
  std::unique_ptr<sandbox::Sandbox> sb;
  auto start = [&]() -> Status {
    HULL_ASSIGN(wired, container::wire_network(net_choice));
    *net = std::move(wired);
    so.nics = net->sandbox_nics();
    HULL_ASSIGN(started, sandbox::Sandbox::start(so));
    sb = std::move(started);
    // Its last check looks for the wired links in this thread's namespace.
    if (auto st = container::configure_guest_network(sb->agent(), *net); !st) {
      (void)sb->stop();
      sb.reset();
      return st;
    }
    return {};
  };
  if (net_choice.mode == container::NetMode::Path) {
    // Children inherit the namespace of the thread that starts them.
    HULL_TRY(network::in_netns(net_choice.path, start));
  } else {
    HULL_TRY(start());
  }
  cgroup_ = std::move(cgroup);
  in_cgroup_ = std::move(in_cgroup);
  net_ = std::move(net);
  sandbox_ = std::move(sb);
  client_ = std::make_unique<sandbox::GrpcContainerClient>(sandbox_->agent());
  log::info("pod " + opts_.id + ": VM up after " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                               sandbox_->timings().end - sandbox_->timings().begin)
                               .count()) +
            " ms (qemu pid " + std::to_string(sandbox_->qemu_pid()) + ", " +
            std::to_string(net_->plan.nics.size()) + " NICs)");

  record_.sandbox_dir = sandbox_->paths().dir;
  record_.socket_dir = sandbox_->paths().short_sockets() ? sandbox_->paths().socket_dir : "";
  record_.cgroup = cgroup_ ? cgroup_->to_json().dump() : "";
  record_.procs = {proc_ref("qemu", sandbox_->qemu_pid()),
                   proc_ref("virtiofsd", sandbox_->virtiofsd_pid()),
                   proc_ref("hull-vsock", sandbox_->vsock_pid())};
  if (auto st = write_record(record_path(opts_.root, opts_.id), record_); !st) {
    log::warn("pod " + opts_.id + ": " + st.error().what());
  }

  watch_helpers();

  if (auto reader = client_->oom_events(); reader) {
    oom_ = std::move(*reader);
    oom_thread_ = std::thread([this, on_oom = std::move(on_oom)] {
      for (;;) {
        auto next = oom_->next();
        if (!next || !*next) return;  // cancelled, or the sandbox is going away
        if (on_oom) on_oom(**next);
      }
    });
  } else {
    log::warn("pod " + opts_.id + ": no OOM events: " + reader.error().what());
  }
  return {};
}

void Pod::watch_helpers() {
  struct Watched {
    std::string name;
    pid_t pid;
    UniqueFd fd;
  };
  std::vector<Watched> ws;
  for (const auto& p : record_.procs) {
    if (p.name == "qemu") continue;
    auto fd = container::open_pidfd(p.pid, p.start);
    if (!fd) {
      log::warn("pod " + opts_.id + ": cannot watch " + p.name + ": " + fd.error().what());
      continue;
    }
    ws.push_back({p.name, p.pid, std::move(*fd)});
  }
  watch_stop_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  if (!watch_stop_ || ws.empty()) return;
  const pid_t qemu = sandbox_->qemu_pid();
  watch_thread_ = std::thread([this, ws = std::move(ws), qemu] {
    std::vector<pollfd> pfds{{watch_stop_.get(), POLLIN, 0}};
    for (const auto& w : ws) pfds.push_back({w.fd.get(), POLLIN, 0});
    for (;;) {
      if (::poll(pfds.data(), pfds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (pfds[0].revents != 0) return;
      for (size_t i = 1; i < pfds.size(); ++i) {
        if (pfds[i].revents == 0) continue;
        const Watched& w = ws[i - 1];
        log::warn("pod " + opts_.id + ": " + w.name + " (pid " + std::to_string(w.pid) +
                  ") exited; the VM cannot serve without it: killing QEMU (pid " +
                  std::to_string(qemu) + "), every task of the pod exits");
        ::kill(qemu, SIGKILL);  // our unreaped child: the pid is still QEMU's
        return;
      }
    }
  });
}

void Pod::stop_watch() {
  if (watch_stop_) {
    uint64_t one = 1;
    (void)!::write(watch_stop_.get(), &one, sizeof one);
  }
  if (watch_thread_.joinable()) watch_thread_.join();
  watch_stop_.reset();
}

void Pod::destroy_guest() {
  stop_watch();  // the helpers end with the guest now
  if (sandbox_) sandbox_->destroy_guest();
}

Status Pod::stop() {
  if (oom_) oom_->cancel();
  if (oom_thread_.joinable()) oom_thread_.join();
  oom_.reset();
  stop_watch();
  if (!sandbox_) return {};
  log::info("pod " + opts_.id + ": stopping its VM");
  Status st = sandbox_->stop();
  client_.reset();
  sandbox_.reset();
  net_.reset();
  if (in_cgroup_) {
    if (auto r = in_cgroup_->restore(); !r) log::warn("pod " + opts_.id + ": " + r.error().what());
    in_cgroup_.reset();
  }
  if (cgroup_) {
    if (auto r = cgroup_->remove(false); !r) {
      log::warn("pod " + opts_.id + ": removing its host cgroup: " + r.error().what());
    }
    cgroup_.reset();
  }
  record_.sandbox_dir.clear();
  record_.socket_dir.clear();
  record_.procs.clear();
  record_.cgroup.clear();
  if (record_.shim.pid != 0) {
    if (auto w = write_record(record_path(opts_.root, opts_.id), record_); !w) {
      log::warn("pod " + opts_.id + ": " + w.error().what());
    }
  }
  return st;
}

void Pod::remove_record() {
  ::unlink(record_path(opts_.root, opts_.id).c_str());
}

}  // namespace hull::shim
