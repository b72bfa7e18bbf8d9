// What the guest kernel offers, probed at boot and logged once, so a kernel config change
// that lost a feature shows on the console (and later in the GuestDetails RPC).
#pragma once

#include <string>
#include <vector>

namespace hull::agent::init {

struct GuestFeatures {
  std::vector<std::string> cgroup_controllers;  // /sys/fs/cgroup/cgroup.controllers
  bool bpf = false;                             // bpf(2) exists (CONFIG_BPF_SYSCALL)
  bool cgroup_bpf = false;          // BPF programs attach to cgroups (CONFIG_CGROUP_BPF)
  bool psi = false;                 // /proc/pressure (CONFIG_PSI)
  bool keys = false;                // /proc/sys/kernel/keys (CONFIG_KEYS)
  bool checkpoint_restore = false;  // /proc/sys/kernel/ns_last_pid (CONFIG_CHECKPOINT_RESTORE)
  bool hugetlbfs = false;           // "hugetlbfs" in /proc/filesystems
  bool overlay = false;             // "overlay" in /proc/filesystems
  bool virtiofs = false;            // "virtiofs" in /proc/filesystems
  bool page_reporting = false;      // /sys/module/page_reporting (CONFIG_PAGE_REPORTING)
  int virtio_rng_devices = -1;      // devices bound to virtio_rng; -1: no such driver
  int virtio_balloon_devices = -1;  // devices bound to virtio_balloon; -1: no such driver
  int vsock_devices = -1;           // devices bound to the virtio vsock transport
  std::string rng_current;          // /sys/class/misc/hw_random/rng_current, or "" if absent
  bool packet = false;              // AF_PACKET sockets (CONFIG_PACKET)
  bool ipv6 = false;                // /proc/sys/net/ipv6 (CONFIG_IPV6)
  bool policy_routing = false;      // an IPv4 rule dump answers (CONFIG_IP_MULTIPLE_TABLES)
  int virtio_net_devices = -1;      // devices bound to virtio_net; -1: no such driver
};

// Reads /proc, /sys and calls bpf(2) once; never fails (a missing file is a missing feature).
GuestFeatures probe_features();

// One line: "cgroup=cpuset,cpu,... bpf=1 cgroup_bpf=1 psi=1 ... rng=virtio_rng.0". Pure.
std::string describe(const GuestFeatures& f);

}  // namespace hull::agent::init
