#include "shim/pod.h"

#include <unistd.h>

#include "common/log.h"
#include "common/proc_stat.h"
#include "runtime/config/config.h"
#include "runtime/container/paths.h"
#include "runtime/container/proc.h"
#include "runtime/container/sizing.h"

namespace hull::shim {
namespace {

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
  HULL_ASSIGN(size, container::vm_size(first, cfg.vm));
  HULL_ASSIGN(vsock, container::find_hull_vsock());
  sandbox::SandboxOptions so;
  so.id = opts_.id;
  so.root = opts_.root;
  so.config = cfg;
  so.config.vm.vcpus = size.vcpus;
  so.config.vm.memory_mib = size.memory_mib;
  so.hull_vsock_path = vsock;
  log::info("pod " + opts_.id + ": booting its VM (" + std::to_string(size.vcpus) + " vCPUs, " +
            std::to_string(size.memory_mib) + " MiB, config " + cfg.source + ")");
  HULL_ASSIGN(sb, sandbox::Sandbox::start(so));
  sandbox_ = std::move(sb);
  log::info("pod " + opts_.id + ": VM up after " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                               sandbox_->timings().end - sandbox_->timings().begin)
                               .count()) +
            " ms (qemu pid " + std::to_string(sandbox_->qemu_pid()) + ")");

  record_.sandbox_dir = sandbox_->paths().dir;
  record_.socket_dir = sandbox_->paths().short_sockets() ? sandbox_->paths().socket_dir : "";
  record_.procs = {proc_ref("qemu", sandbox_->qemu_pid()),
                   proc_ref("virtiofsd", sandbox_->virtiofsd_pid()),
                   proc_ref("hull-vsock", sandbox_->vsock_pid())};
  if (auto st = write_record(record_path(opts_.root, opts_.id), record_); !st) {
    log::warn("pod " + opts_.id + ": " + st.error().what());
  }

  if (auto reader = sandbox::OomEventReader::open(stub()); reader) {
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

void Pod::destroy_guest() {
  if (sandbox_) sandbox_->destroy_guest();
}

Status Pod::stop() {
  if (oom_) oom_->cancel();
  if (oom_thread_.joinable()) oom_thread_.join();
  oom_.reset();
  if (!sandbox_) return {};
  log::info("pod " + opts_.id + ": stopping its VM");
  Status st = sandbox_->stop();
  sandbox_.reset();
  record_.sandbox_dir.clear();
  record_.socket_dir.clear();
  record_.procs.clear();
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
