#include "agent/init/features.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/fib_rules.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "agent/init/mounts.h"
#include "common/file.h"
#include "common/unique_fd.h"

namespace hull::agent::init {
namespace {

constexpr size_t kMaxProbeBytes = 16 * 1024;

bool exists(const char* path) {
  return ::access(path, F_OK) == 0;
}

std::string read_or_empty(const char* path) {
  auto r = read_file(path, kMaxProbeBytes);
  return r ? *r : std::string();
}

// Number of devices bound to a virtio driver (its sysfs dir holds one "virtioN" link each).
int bound_devices(const char* driver_dir) {
  DIR* dir = ::opendir(driver_dir);
  if (!dir) return -1;
  int n = 0;
  while (dirent* e = ::readdir(dir)) {
    if (std::strncmp(e->d_name, "virtio", 6) == 0) ++n;
  }
  ::closedir(dir);
  return n;
}

bool filesystem_listed(const std::string& filesystems, std::string_view name) {
  for (size_t pos = 0; (pos = filesystems.find(name, pos)) != std::string::npos; ++pos) {
    bool starts = pos > 0 && (filesystems[pos - 1] == '\t' || filesystems[pos - 1] == ' ');
    size_t end = pos + name.size();
    bool ends = end == filesystems.size() || filesystems[end] == '\n';
    if (starts && ends) return true;
  }
  return false;
}

void probe_bpf(GuestFeatures& f) {
  UniqueFd cg(::open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) return;
  bpf_attr attr{};
  attr.query.target_fd = static_cast<__u32>(cg.get());
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  long r = ::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr);
  f.bpf = r == 0 || errno != ENOSYS;
  f.cgroup_bpf = r == 0;  // without CONFIG_CGROUP_BPF the query fails with EINVAL
}

bool probe_packet() {
  UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  return fd || errno != EAFNOSUPPORT;
}

// Without CONFIG_IP_MULTIPLE_TABLES no rule handler is registered and the dump
// fails with EOPNOTSUPP; with it the kernel answers with the default rules.
bool probe_policy_routing() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return false;
  struct {
    nlmsghdr h;
    fib_rule_hdr r;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETRULE;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  req.r.family = AF_INET;
  if (::send(fd.get(), &req, sizeof req, 0) != static_cast<ssize_t>(sizeof req)) return false;
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, 1000) != 1) return false;
  alignas(nlmsghdr) char buf[8192];
  ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
  if (n < static_cast<ssize_t>(sizeof(nlmsghdr))) return false;
  nlmsghdr h{};
  std::memcpy(&h, buf, sizeof h);  // the first message decides: a rule, or an error
  if (h.nlmsg_type == RTM_NEWRULE) return true;
  if (h.nlmsg_type == NLMSG_ERROR || h.nlmsg_type == NLMSG_DONE) {
    int err = 0;
    if (n >= static_cast<ssize_t>(sizeof(nlmsghdr) + sizeof err)) {
      std::memcpy(&err, buf + sizeof(nlmsghdr), sizeof err);
    }
    return err == 0 && h.nlmsg_type == NLMSG_DONE;
  }
  return false;
}

std::string yes_no(bool b) {
  return b ? "1" : "0";
}

std::string devices(int n) {
  return n < 0 ? "no-driver" : std::to_string(n);
}

}  // namespace

GuestFeatures probe_features() {
  GuestFeatures f;
  f.cgroup_controllers = parse_controllers(read_or_empty("/sys/fs/cgroup/cgroup.controllers"));
  probe_bpf(f);
  f.psi = exists("/proc/pressure/memory");
  f.keys = exists("/proc/sys/kernel/keys");
  f.checkpoint_restore = exists("/proc/sys/kernel/ns_last_pid");
  std::string filesystems = read_or_empty("/proc/filesystems");
  f.hugetlbfs = filesystem_listed(filesystems, "hugetlbfs");
  f.overlay = filesystem_listed(filesystems, "overlay");
  f.virtiofs = filesystem_listed(filesystems, "virtiofs");
  f.page_reporting = exists("/sys/module/page_reporting");
  f.virtio_rng_devices = bound_devices("/sys/bus/virtio/drivers/virtio_rng");
  f.virtio_balloon_devices = bound_devices("/sys/bus/virtio/drivers/virtio_balloon");
  f.vsock_devices = bound_devices("/sys/bus/virtio/drivers/vmw_vsock_virtio_transport");
  f.rng_current = read_or_empty("/sys/class/misc/hw_random/rng_current");
  while (!f.rng_current.empty() && f.rng_current.back() == '\n') f.rng_current.pop_back();
  f.packet = probe_packet();
  f.ipv6 = exists("/proc/sys/net/ipv6");
  f.policy_routing = probe_policy_routing();
  f.virtio_net_devices = bound_devices("/sys/bus/virtio/drivers/virtio_net");
  return f;
}

std::string describe(const GuestFeatures& f) {
  std::string cgroups;
  for (const std::string& c : f.cgroup_controllers) cgroups += (cgroups.empty() ? "" : ",") + c;
  return "cgroup=" + (cgroups.empty() ? std::string("none") : cgroups) + " bpf=" + yes_no(f.bpf) +
         " cgroup_bpf=" + yes_no(f.cgroup_bpf) + " psi=" + yes_no(f.psi) +
         " keys=" + yes_no(f.keys) + " checkpoint_restore=" + yes_no(f.checkpoint_restore) +
         " hugetlbfs=" + yes_no(f.hugetlbfs) + " overlay=" + yes_no(f.overlay) +
         " virtiofs=" + yes_no(f.virtiofs) + " page_reporting=" + yes_no(f.page_reporting) +
         " virtio_rng=" + devices(f.virtio_rng_devices) +
         " virtio_balloon=" + devices(f.virtio_balloon_devices) +
         " vsock=" + devices(f.vsock_devices) +
         " rng=" + (f.rng_current.empty() ? std::string("none") : f.rng_current) +
         " packet=" + yes_no(f.packet) + " ipv6=" + yes_no(f.ipv6) +
         " policy_routing=" + yes_no(f.policy_routing) +
         " virtio_net=" + devices(f.virtio_net_devices);
}

}  // namespace hull::agent::init
