#include "runtime/vm/host_check.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/process.h"
#include "common/unique_fd.h"
#include "runtime/jail/jail.h"
#include "runtime/vm/accel.h"

namespace hull::vm {
namespace {

using namespace std::chrono_literals;

CheckLine ok(std::string name, std::string detail) {
  return {std::move(name), CheckLevel::Ok, std::move(detail), ""};
}
CheckLine warn(std::string name, std::string detail, std::string advice) {
  return {std::move(name), CheckLevel::Warn, std::move(detail), std::move(advice)};
}
CheckLine bad(std::string name, std::string detail, std::string advice) {
  return {std::move(name), CheckLevel::Fail, std::move(detail), std::move(advice)};
}

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

constexpr const char* kInstallQemu = "apt-get install qemu-system-x86, or set hypervisor.path";

void check_qemu(const config::Config& cfg, std::vector<CheckLine>& out) {
  const std::string& q = cfg.hypervisor.path;
  if (!executable(q)) {
    out.push_back(bad("qemu", q + ": " + std::strerror(errno), kInstallQemu));
    out.push_back(bad("microvm", "not checked: no QEMU", kInstallQemu));
    out.push_back(bad("vhost-user", "not checked: no QEMU", kInstallQemu));
    return;
  }
  auto version = run_capture({q, "--version"}, 10s);
  if (!version || version->exit_status != 0) {
    out.push_back(bad("qemu", q + " --version failed", "check the QEMU installation"));
  } else {
    out.push_back(ok("qemu", q + ": " + first_line(version->output)));
  }
  auto machines = run_capture({q, "-machine", "help"}, 10s);
  if (machines && machines->output.find("\nmicrovm ") != std::string::npos) {
    out.push_back(ok("microvm", "QEMU supports the microvm machine"));
  } else {
    out.push_back(bad("microvm", q + " does not list the microvm machine",
                      "use QEMU 7.2 or newer built with microvm (Debian's qemu-system-x86)"));
  }
  auto devices = run_capture({q, "-device", "help"}, 10s);
  bool vsock = devices && devices->output.find("\"vhost-user-vsock-device\"") != std::string::npos;
  bool fs = devices && devices->output.find("\"vhost-user-fs-device\"") != std::string::npos;
  if (vsock && fs) {
    out.push_back(ok("vhost-user", "QEMU has vhost-user-vsock-device and vhost-user-fs-device"));
  } else {
    out.push_back(bad("vhost-user",
                      std::string("QEMU lacks ") + (vsock ? "" : "vhost-user-vsock-device ") +
                          (fs ? "" : "vhost-user-fs-device"),
                      "use Debian's qemu-system-x86 7.2 or newer"));
  }
}

void check_memfd(std::vector<CheckLine>& out) {
  UniqueFd fd(::memfd_create("hull-check", MFD_CLOEXEC));
  if (fd) {
    out.push_back(ok("memfd", "memfd_create works (guest RAM shared with vhost-user backends)"));
  } else {
    out.push_back(bad("memfd", std::string("memfd_create: ") + std::strerror(errno),
                      "run on a Linux kernel with memfd support (3.17+) and no seccomp filter "
                      "blocking it"));
  }
}

void check_file(std::vector<CheckLine>& out, const std::string& name, const std::string& path,
                const std::string& advice) {
  if (::access(path.c_str(), R_OK) == 0) {
    out.push_back(ok(name, path));
  } else {
    out.push_back(bad(name, path + ": " + std::strerror(errno), advice));
  }
}

void check_accel(const config::Config& cfg, std::vector<CheckLine>& out) {
  auto choice = choose_accel(cfg.hypervisor.accel, probe_host_accel());
  if (!choice) {
    out.push_back(bad("accel", choice.error().what(), "set hypervisor.accel to auto"));
  } else if (choice->accel == config::Accel::Kvm) {
    out.push_back(ok("accel", choice->reason));
  } else {
    out.push_back(warn("accel", choice->reason,
                       std::string("VMs run under TCG: boots take seconds, and ") +
                           kTcgNotABoundary +
                           "; use a host with hardware virtualization for production"));
  }
}

// QEMU and hull-vsock run as the jail user (runtime/jail): without it no VM starts.
void check_jail_user(const config::Config& cfg, std::vector<CheckLine>& out) {
  auto id = jail::resolve_identity(cfg.jail.user, cfg.jail.group);
  if (id) {
    out.push_back(ok("jail user", cfg.jail.user + " (uid " + std::to_string(id->uid) + ", gid " +
                                      std::to_string(id->gid) + ")"));
  } else {
    out.push_back(bad("jail user", id.error().what(),
                      "run scripts/setup.sh, or set jail.user to an unprivileged user"));
  }
}

void check_cgroup(std::vector<CheckLine>& out) {
  struct statfs fs {};
  if (::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
    out.push_back(ok("cgroup", "host runs cgroup v2 (unified)"));
    return;
  }
  out.push_back(ok("cgroup",
                   "host runs cgroup v1 or hybrid: each container's VM is accounted in a v1 "
                   "cgroup at linux.cgroupsPath, as runc's; inside its VM the container gets "
                   "cgroup v2"));
}

void check_tun(std::vector<CheckLine>& out) {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (fd) {
    out.push_back(ok("tun", "/dev/net/tun opens (VM network interfaces)"));
  } else {
    out.push_back(warn("tun", std::string("/dev/net/tun: ") + std::strerror(errno),
                       "load the tun module (modprobe tun) to give VMs network interfaces"));
  }
}

}  // namespace

std::vector<CheckLine> run_host_checks(const config::Config& cfg, const std::string& helper_dir) {
  std::vector<CheckLine> out;
  check_qemu(cfg, out);
  std::string vfsd = config::virtiofsd_path(cfg);
  if (executable(vfsd)) {
    out.push_back(ok("virtiofsd", vfsd));
  } else {
    out.push_back(bad("virtiofsd", vfsd + ": " + std::strerror(errno),
                      "apt-get install qemu-system-common (Debian 12) or virtiofsd, or set "
                      "virtiofsd.path"));
  }
  std::string vsock = helper_dir + "/hull-vsock";
  if (executable(vsock)) {
    out.push_back(ok("hull-vsock", vsock));
  } else {
    out.push_back(bad("hull-vsock", vsock + ": " + std::strerror(errno),
                      "install hull-vsock next to the hull binary"));
  }
  check_accel(cfg, out);
  check_jail_user(cfg, out);
  check_memfd(out);
  check_file(
      out, "kernel", cfg.vm.kernel,
      "build and install the guest image (guest-image/build.sh --install), or set vm.kernel");
  check_file(
      out, "initrd", cfg.vm.initrd,
      "build and install the guest image (guest-image/build.sh --install), or set vm.initrd");
  check_cgroup(out);
  check_tun(out);
  return out;
}

bool any_failed(const std::vector<CheckLine>& lines) {
  for (const auto& l : lines) {
    if (l.level == CheckLevel::Fail) return true;
  }
  return false;
}

std::string format_check_line(const CheckLine& l) {
  const char* level = l.level == CheckLevel::Ok     ? "OK"
                      : l.level == CheckLevel::Warn ? "WARN"
                                                    : "FAIL";
  char head[64];
  std::snprintf(head, sizeof head, "%-5s %-11s ", level, l.name.c_str());
  std::string s = head + l.detail;
  if (!l.advice.empty()) s += " (to fix: " + l.advice + ")";
  return s;
}

}  // namespace hull::vm
