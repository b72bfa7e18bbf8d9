#include "runtime/vm/qemu_cmdline.h"

namespace hull::vm {

std::string qemu_opt_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

std::string kernel_cmdline(const KernelCmdlineSpec& spec) {
  std::string s = "console=ttyS0 quiet panic=-1";
  // Skips rewriting the kernel's SMP lock prefixes: 60-80 ms under TCG.
  if (spec.vcpus == 1) s += " noreplace-smp";
  if (spec.tcg && spec.tsc_khz > 0) s += " tsc_early_khz=" + std::to_string(spec.tsc_khz);
  if (!spec.extra.empty()) s += " " + spec.extra;
  return s;
}

std::vector<std::string> qemu_argv(const QemuSpec& spec) {
  const std::string mem = std::to_string(spec.memory_mib) + "M";
  std::vector<std::string> a = {spec.qemu_path};
  if (!spec.name.empty()) a.insert(a.end(), {"-name", qemu_opt_value(spec.name)});
  a.insert(a.end(), {"-nodefaults", "-no-user-config", "-nographic", "-no-reboot"});

  if (spec.accel == config::Accel::Kvm) {
    a.insert(a.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    std::string tcg = "tcg";
    if (spec.tcg_tb_size_mib > 0) tcg += ",tb-size=" + std::to_string(spec.tcg_tb_size_mib);
    a.insert(a.end(), {"-accel", tcg, "-cpu", "max"});
  }
  a.insert(a.end(), {"-machine", "microvm,acpi=on", "-smp", std::to_string(spec.vcpus)});

  // Guest RAM in a shared memfd: the vhost-user backends map it.
  a.insert(a.end(), {"-m", mem, "-object", "memory-backend-memfd,id=mem,size=" + mem + ",share=on",
                     "-numa", "node,memdev=mem"});
  a.insert(a.end(), {"-global", "virtio-mmio.force-legacy=false"});
  // Free page reporting: the guest hands pages it frees (the initrd image after unpacking,
  // a container's memory after it exits) back to the host, which punches them out of the memfd.
  a.insert(a.end(), {"-device", "virtio-balloon-device,free-page-reporting=on"});

  a.insert(a.end(),
           {"-kernel", spec.kernel, "-initrd", spec.initrd, "-append", spec.kernel_cmdline});

  // A socket chardev's address: an inherited descriptor, or the path.
  auto where = [](int fd, const std::string& path) {
    return fd >= 0 ? "fd=" + std::to_string(fd) : "path=" + qemu_opt_value(path);
  };
  if (spec.console_fd >= 0) {
    const std::string set = std::to_string(kConsoleFdSet);
    a.insert(a.end(), {"-add-fd", "fd=" + std::to_string(spec.console_fd) + ",set=" + set,
                       "-chardev", "file,id=console,path=/dev/fdset/" + set + ",append=on"});
  } else {
    a.insert(a.end(), {"-chardev", "file,id=console,path=" + qemu_opt_value(spec.console_log)});
  }
  a.insert(a.end(), {"-serial", "chardev:console"});
  a.insert(a.end(), {"-chardev",
                     "socket,id=qmp," + where(spec.qmp_fd, spec.qmp_socket) + ",server=on,wait=off",
                     "-mon", "chardev=qmp,mode=control"});

  a.insert(a.end(),
           {"-chardev", "socket,id=vsock," + where(spec.vhost_vsock_fd, spec.vhost_vsock_socket),
            "-device", "vhost-user-vsock-device,chardev=vsock"});
  if (spec.virtiofsd_fd >= 0 || !spec.virtiofsd_socket.empty()) {
    a.insert(a.end(),
             {"-chardev", "socket,id=fs," + where(spec.virtiofsd_fd, spec.virtiofsd_socket),
              "-device", "vhost-user-fs-device,chardev=fs,tag=" + spec.fs_tag});
  }

  for (const auto& n : spec.nics) {
    std::string netdev = "tap,id=" + n.id + ",fd=" + std::to_string(n.tap_fd);
    if (n.vhost_fd >= 0) {
      netdev += ",vhost=on,vhostfd=" + std::to_string(n.vhost_fd);
    } else {
      netdev += ",vhost=off";
    }
    std::string device = "virtio-net-device,netdev=" + n.id + ",mac=" + n.mac;
    if (n.mtu > 0) device += ",host_mtu=" + std::to_string(n.mtu);
    a.insert(a.end(), {"-netdev", netdev, "-device", device});
  }

  if (spec.seccomp_sandbox) {
    a.insert(a.end(), {"-sandbox",
                       "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                       "resourcecontrol=deny"});
  }
  return a;
}

}  // namespace hull::vm
