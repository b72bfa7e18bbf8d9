#include "agent/init/features.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
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
         " rng=" + (f.rng_current.empty() ? std::string("none") : f.rng_current);
}

}  // namespace hull::agent::init
