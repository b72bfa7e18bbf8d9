// The QEMU command line and the guest kernel command line, as pure functions
// of a QemuSpec (no I/O), so every flag is unit-tested.
//
// Machine: microvm with ACPI (faster than acpi=off and the only power-off
// path), PVH direct boot of the ELF vmlinux, guest RAM in a shared memfd
// (both vhost-user backends map it), modern virtio-mmio only, no default
// devices, serial console into a file or an inherited descriptor (the
// sandbox passes a pipe to its bounded console log), QMP on a unix socket.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/config/config.h"

namespace hull::vm {

struct KernelCmdlineSpec {
  uint32_t vcpus = 1;
  bool tcg = false;
  uint32_t tsc_khz = 0;  // host TSC rate; under TCG 0 means unknown (not passed)
  std::string extra;     // config vm.kernel_params, appended last
};

// "console=ttyS0 quiet panic=-1 [noreplace-smp] [tsc_early_khz=N] [extra]".
// `noreplace-smp` only with one vCPU; `tsc_early_khz` only under TCG (without
// it 15-20% of TCG boots hang in TSC calibration).
std::string kernel_cmdline(const KernelCmdlineSpec& spec);

// One virtio-net NIC on a tap that hull opened (runtime/network): QEMU gets
// the tap's fd (and vhost-net's) by number, inherited across exec.
struct QemuNic {
  std::string id;     // netdev id ("net0")
  int tap_fd = -1;    // the fd number QEMU sees
  int vhost_fd = -1;  // -1: no /dev/vhost-net (vhost=off)
  std::string mac;    // "aa:bb:cc:dd:ee:ff"
  uint32_t mtu = 0;   // host_mtu: the guest driver takes it as its MTU
};

struct QemuSpec {
  std::string qemu_path;
  config::Accel accel = config::Accel::Tcg;  // Kvm or Tcg (never Auto)
  uint32_t tcg_tb_size_mib = 0;              // -accel tcg,tb-size=N; 0: QEMU's default
  bool seccomp_sandbox = true;               // -sandbox on,...
  uint32_t vcpus = 1;
  uint32_t memory_mib = 256;
  std::string kernel;
  std::string initrd;
  std::string kernel_cmdline;
  std::string qmp_socket;          // QEMU listens (server)
  std::string vhost_vsock_socket;  // hull-vsock listens; QEMU connects
  std::string virtiofsd_socket;    // virtiofsd listens; QEMU connects; empty: no virtio-fs
  std::string fs_tag;              // virtio-fs tag the agent mounts
  std::string console_log;         // serial console output file
  // Descriptors QEMU inherits instead of opening the paths above (a jailed
  // QEMU sees none of them); -1: use the path.
  // written (O_WRONLY), passed as fd set kConsoleFdSet with append=on: QEMU would
  // ftruncate it otherwise, which a pipe refuses (EINVAL). QEMU makes it O_NONBLOCK.
  int console_fd = -1;
  int qmp_fd = -1;          // a listening unix socket
  int vhost_vsock_fd = -1;  // connected to hull-vsock
  int virtiofsd_fd = -1;    // connected to virtiofsd
  std::string name;         // -name (shows in ps and QMP)
  // One `-netdev tap,fd=` + `-device virtio-net-device` each (microvm has no
  // hotplug: every NIC exists at boot).
  std::vector<QemuNic> nics;
};

// The -add-fd set the console descriptor is passed in ("/dev/fdset/1").
inline constexpr int kConsoleFdSet = 1;

std::vector<std::string> qemu_argv(const QemuSpec& spec);

// A value inside a QEMU option list ("path=<v>"): commas doubled.
std::string qemu_opt_value(const std::string& v);

}  // namespace hull::vm
