#include "tests/unit/agent/engine/fixture.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/process.h"

namespace hull::engine::test {

namespace fs = std::filesystem;

bool running_as_root() {
  return ::geteuid() == 0;
}

void enter_private_mount_namespace() {
  if (!running_as_root()) return;
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    std::perror("private mount namespace for the tests");
    std::exit(1);
  }
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "hull-engine-XXXXXX").string();
  if (::mkdtemp(tmpl.data())) path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

BusyboxRootfs::BusyboxRootfs() {
  if (dir_.path().empty() || !fs::exists("/bin/busybox")) return;
  rootfs_ = dir_.path() + "/rootfs";
  std::error_code ec;
  // mkdtemp's 0700 would keep a user-namespaced container root out.
  fs::permissions(dir_.path(),
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  ec);
  for (const char* d :
       {"bin", "proc", "sys", "dev", "etc", "tmp", "home/tester", "root", "etc/secret"}) {
    fs::create_directories(rootfs_ + "/" + d, ec);
    if (ec) return;
  }
  fs::copy_file("/bin/busybox", rootfs_ + "/bin/busybox", ec);
  if (ec) return;
  auto list = run_capture({"/bin/busybox", "--list"}, std::chrono::seconds(10));
  if (!list || list->exit_status != 0) return;
  std::istringstream names(list->output);
  std::string name;
  while (names >> name) {
    if (name != "busybox") fs::create_symlink("busybox", rootfs_ + "/bin/" + name, ec);
  }
  std::ofstream(rootfs_ + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                         << "tester:x:1000:1000:tester:/home/tester:/bin/sh\n";
  std::ofstream(rootfs_ + "/etc/group") << "root:x:0:\ntester:x:1000:\nwheel:x:10:\nstaff:x:20:\n";
  std::ofstream(rootfs_ + "/etc/secret/key") << "do not read\n";
  std::ofstream(rootfs_ + "/etc/secret-file") << "hidden\n";
  ok_ = true;
}

oci::Spec base_spec(const std::string& rootfs, const std::string& script) {
  oci::Spec s = oci::default_spec();
  s.root->path = rootfs;
  s.process->terminal = false;
  s.process->args = std::vector<std::string>{"sh", "-c", script};
  s.hostname = "hull-test";
  oci::Mount tmp;
  tmp.destination = "/tmp";
  tmp.type = "tmpfs";
  tmp.source = "tmpfs";
  tmp.options = std::vector<std::string>{"nosuid", "nodev", "mode=1777"};
  s.mounts->push_back(tmp);
  return s;
}

ContainerGuard::~ContainerGuard() {
  if (!c_) return;
  (void)c_->destroy();
  (void)c_->wait();
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<Output> run(const oci::Spec& spec, const std::string& id) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return fail_errno("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  CreateOptions o;
  o.id = id;
  o.spec = spec;
  o.cgroup_root = std::nullopt;
  o.stdio = {-1, wr.get(), wr.get()};
  o.timeout = std::chrono::seconds(20);
  HULL_ASSIGN(c, Container::create(o));
  ContainerGuard g(std::move(c));
  wr.reset();
  HULL_TRY(g->start());
  Output out;
  out.out = read_all(rd.get());
  HULL_ASSIGN(status, g->wait());
  out.status = status;
  return out;
}

}  // namespace hull::engine::test
