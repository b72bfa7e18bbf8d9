#include "runtime/vm/qemu_cmdline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace hull::vm {
namespace {

using ::testing::Contains;
using ::testing::Not;

QemuSpec base_spec() {
  QemuSpec s;
  s.qemu_path = "/usr/bin/qemu-system-x86_64";
  s.accel = config::Accel::Tcg;
  s.vcpus = 1;
  s.memory_mib = 256;
  s.kernel = "/k/vmlinux";
  s.initrd = "/k/initrd.img";
  s.kernel_cmdline = "console=ttyS0";
  s.qmp_socket = "/run/hull/sandboxes/a/qmp.sock";
  s.vhost_vsock_socket = "/run/hull/sandboxes/a/vhost-vsock.sock";
  s.virtiofsd_socket = "/run/hull/sandboxes/a/virtiofsd.sock";
  s.fs_tag = "hull-shared";
  s.console_log = "/run/hull/sandboxes/a/console.log";
  return s;
}

// The value after the first occurrence of `flag`, or "" if absent.
std::string arg_after(const std::vector<std::string>& argv, const std::string& flag) {
  auto it = std::find(argv.begin(), argv.end(), flag);
  if (it == argv.end() || it + 1 == argv.end()) return "";
  return *(it + 1);
}

// Every value given to `flag`.
std::vector<std::string> args_after(const std::vector<std::string>& argv, const std::string& flag) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag) out.push_back(argv[i + 1]);
  }
  return out;
}

TEST(KernelCmdline, OneVcpuTcgWithTsc) {
  EXPECT_EQ(kernel_cmdline({.vcpus = 1, .tcg = true, .tsc_khz = 2300000, .extra = ""}),
            "console=ttyS0 quiet panic=-1 noreplace-smp tsc_early_khz=2300000");
}

TEST(KernelCmdline, TwoVcpusKvmHasNeitherSmpNorTscFlag) {
  EXPECT_EQ(kernel_cmdline({.vcpus = 2, .tcg = false, .tsc_khz = 2300000, .extra = ""}),
            "console=ttyS0 quiet panic=-1");
}

TEST(KernelCmdline, TcgWithoutKnownTscOmitsIt) {
  EXPECT_EQ(kernel_cmdline({.vcpus = 2, .tcg = true, .tsc_khz = 0, .extra = ""}),
            "console=ttyS0 quiet panic=-1");
}

TEST(KernelCmdline, ExtraParamsComeLast) {
  EXPECT_EQ(kernel_cmdline({.vcpus = 1, .tcg = false, .tsc_khz = 0, .extra = "hull.log=debug"}),
            "console=ttyS0 quiet panic=-1 noreplace-smp hull.log=debug");
}

TEST(QemuArgv, MachineAndBasics) {
  auto a = qemu_argv(base_spec());
  EXPECT_EQ(a[0], "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(arg_after(a, "-machine"), "microvm,acpi=on");
  EXPECT_THAT(a, Contains("-nodefaults"));
  EXPECT_THAT(a, Contains("-no-user-config"));
  EXPECT_THAT(a, Contains("-nographic"));
  EXPECT_THAT(a, Contains("-no-reboot"));
  EXPECT_EQ(arg_after(a, "-global"), "virtio-mmio.force-legacy=false");
  auto devices = args_after(a, "-device");
  EXPECT_NE(
      std::find(devices.begin(), devices.end(), "virtio-balloon-device,free-page-reporting=on"),
      devices.end());
  EXPECT_EQ(arg_after(a, "-smp"), "1");
  EXPECT_EQ(arg_after(a, "-kernel"), "/k/vmlinux");
  EXPECT_EQ(arg_after(a, "-initrd"), "/k/initrd.img");
  EXPECT_EQ(arg_after(a, "-append"), "console=ttyS0");
}

TEST(QemuArgv, SharedMemfdRamWithNumaNode) {
  auto s = base_spec();
  s.memory_mib = 512;
  auto a = qemu_argv(s);
  EXPECT_EQ(arg_after(a, "-m"), "512M");
  EXPECT_EQ(arg_after(a, "-object"), "memory-backend-memfd,id=mem,size=512M,share=on");
  EXPECT_EQ(arg_after(a, "-numa"), "node,memdev=mem");
}

TEST(QemuArgv, TcgAccelWithAndWithoutTbSize) {
  auto s = base_spec();
  EXPECT_EQ(arg_after(qemu_argv(s), "-accel"), "tcg");
  s.tcg_tb_size_mib = 64;
  EXPECT_EQ(arg_after(qemu_argv(s), "-accel"), "tcg,tb-size=64");
  EXPECT_EQ(arg_after(qemu_argv(s), "-cpu"), "max");
}

TEST(QemuArgv, KvmUsesHostCpuAndIgnoresTbSize) {
  auto s = base_spec();
  s.accel = config::Accel::Kvm;
  s.tcg_tb_size_mib = 64;
  auto a = qemu_argv(s);
  EXPECT_EQ(arg_after(a, "-accel"), "kvm");
  EXPECT_EQ(arg_after(a, "-cpu"), "host");
}

TEST(QemuArgv, SandboxOnByDefaultAndOptional) {
  auto s = base_spec();
  EXPECT_EQ(arg_after(qemu_argv(s), "-sandbox"),
            "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
  s.seccomp_sandbox = false;
  EXPECT_THAT(qemu_argv(s), Not(Contains("-sandbox")));
}

TEST(QemuArgv, ConsoleQmpAndVhostUserDevices) {
  auto a = qemu_argv(base_spec());
  auto chardevs = args_after(a, "-chardev");
  ASSERT_EQ(chardevs.size(), 4u);
  EXPECT_EQ(chardevs[0], "file,id=console,path=/run/hull/sandboxes/a/console.log");
  EXPECT_EQ(chardevs[1], "socket,id=qmp,path=/run/hull/sandboxes/a/qmp.sock,server=on,wait=off");
  EXPECT_EQ(chardevs[2], "socket,id=vsock,path=/run/hull/sandboxes/a/vhost-vsock.sock");
  EXPECT_EQ(chardevs[3], "socket,id=fs,path=/run/hull/sandboxes/a/virtiofsd.sock");
  EXPECT_EQ(arg_after(a, "-serial"), "chardev:console");
  EXPECT_EQ(arg_after(a, "-mon"), "chardev=qmp,mode=control");
  auto devices = args_after(a, "-device");
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0], "virtio-balloon-device,free-page-reporting=on");
  EXPECT_EQ(devices[1], "vhost-user-vsock-device,chardev=vsock");
  EXPECT_EQ(devices[2], "vhost-user-fs-device,chardev=fs,tag=hull-shared");
}

// A jailed QEMU opens none of the sandbox's paths: it gets descriptors.
TEST(QemuArgv, DescriptorsInsteadOfPaths) {
  QemuSpec s = base_spec();
  s.console_fd = 3;
  s.qmp_fd = 4;
  s.vhost_vsock_fd = 5;
  s.virtiofsd_fd = 6;
  auto a = qemu_argv(s);
  EXPECT_EQ(arg_after(a, "-add-fd"), "fd=3,set=1");
  auto chardevs = args_after(a, "-chardev");
  ASSERT_EQ(chardevs.size(), 4u);
  EXPECT_EQ(chardevs[0], "file,id=console,path=/dev/fdset/1,append=on");
  EXPECT_EQ(chardevs[1], "socket,id=qmp,fd=4,server=on,wait=off");
  EXPECT_EQ(chardevs[2], "socket,id=vsock,fd=5");
  EXPECT_EQ(chardevs[3], "socket,id=fs,fd=6");
  for (const auto& arg : a) EXPECT_EQ(arg.find("/run/hull"), std::string::npos) << arg;
}

TEST(QemuArgv, NoVirtiofsWithoutSocket) {
  auto s = base_spec();
  s.virtiofsd_socket.clear();
  auto a = qemu_argv(s);
  EXPECT_EQ(args_after(a, "-device").size(), 2u);  // balloon and vsock
}

TEST(QemuArgv, CommasInPathsAreDoubled) {
  auto s = base_spec();
  s.console_log = "/tmp/a,b/console.log";
  EXPECT_EQ(args_after(qemu_argv(s), "-chardev")[0], "file,id=console,path=/tmp/a,,b/console.log");
  EXPECT_EQ(qemu_opt_value("x,y,,z"), "x,,y,,,,z");
}

TEST(QemuArgv, NameIsOptional) {
  auto s = base_spec();
  EXPECT_THAT(qemu_argv(s), Not(Contains("-name")));
  s.name = "hull-abc";
  EXPECT_EQ(arg_after(qemu_argv(s), "-name"), "hull-abc");
  s.name = "hull-a,b";  // a comma is valid in a container id: QEMU's escape
  EXPECT_EQ(arg_after(qemu_argv(s), "-name"), "hull-a,,b");
}

TEST(QemuArgv, NoNicsWithoutNetwork) {
  auto a = qemu_argv(base_spec());
  EXPECT_THAT(a, Not(Contains("-netdev")));
}

TEST(QemuArgv, OneTapNetdevAndVirtioNetDevicePerNic) {
  auto s = base_spec();
  s.nics = {{.id = "net0", .tap_fd = 5, .vhost_fd = -1, .mac = "02:42:ac:11:00:02", .mtu = 1500},
            {.id = "net1", .tap_fd = 6, .vhost_fd = 7, .mac = "02:00:00:00:00:01", .mtu = 9000}};
  auto a = qemu_argv(s);
  EXPECT_EQ(args_after(a, "-netdev"),
            (std::vector<std::string>{"tap,id=net0,fd=5,vhost=off",
                                      "tap,id=net1,fd=6,vhost=on,vhostfd=7"}));
  auto devices = args_after(a, "-device");
  EXPECT_THAT(devices,
              Contains("virtio-net-device,netdev=net0,mac=02:42:ac:11:00:02,host_mtu=1500"));
  EXPECT_THAT(devices,
              Contains("virtio-net-device,netdev=net1,mac=02:00:00:00:00:01,host_mtu=9000"));
}

}  // namespace
}  // namespace hull::vm
