#include "agent_env.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hull::sandbox::testing {

namespace fs = std::filesystem;

namespace {

// busybox --list, through a pipe.
std::vector<std::string> busybox_applets() {
  std::vector<std::string> out;
  FILE* p = ::popen("/bin/busybox --list", "r");
  if (!p) return out;
  char line[256];
  while (std::fgets(line, sizeof line, p)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (!s.empty() && s != "busybox") out.push_back(s);
  }
  ::pclose(p);
  return out;
}

}  // namespace

bool make_busybox_rootfs(const std::string& dir, std::string* why) {
  if (::access("/bin/busybox", X_OK) != 0) {
    *why = "/bin/busybox is missing (install busybox-static)";
    return false;
  }
  std::error_code ec;
  for (const char* d : {"bin", "proc", "sys", "dev", "etc", "tmp", "root"}) {
    fs::create_directories(dir + "/" + d, ec);
    if (ec) {
      *why = "mkdir " + dir + "/" + d + ": " + ec.message();
      return false;
    }
  }
  fs::permissions(dir,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  ec);
  fs::copy_file("/bin/busybox", dir + "/bin/busybox", ec);
  if (ec) {
    *why = "copying busybox: " + ec.message();
    return false;
  }
  for (const std::string& name : busybox_applets()) {
    fs::create_symlink("busybox", dir + "/bin/" + name, ec);
  }
  std::ofstream(dir + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
  std::ofstream(dir + "/etc/group") << "root:x:0:\n";
  return true;
}

oci::Spec busybox_spec(const std::string& id, std::vector<std::string> args) {
  oci::Spec s = oci::default_spec();
  s.root->path = guest_rootfs_path(id);
  s.root->readonly = true;
  s.process->terminal = false;
  s.process->args = std::move(args);
  s.process->env = std::vector<std::string>{"PATH=/bin", "HOME=/root"};
  s.hostname = "box";
  oci::Mount tmp;
  tmp.destination = "/tmp";
  tmp.type = "tmpfs";
  tmp.source = "tmpfs";
  tmp.options = std::vector<std::string>{"nosuid", "nodev", "mode=1777", "size=65536k"};
  s.mounts->push_back(tmp);
  return s;
}

std::string process_json(const oci::Process& p) {
  oci::Spec s;
  s.process = p;
  return oci::to_json(s)["process"].dump();
}

oci::Process shell_process(const std::string& script) {
  oci::Process p = *oci::default_spec().process;
  p.terminal = false;
  p.args = std::vector<std::string>{"sh", "-c", script};
  p.env = std::vector<std::string>{"PATH=/bin", "HOME=/root"};
  p.cwd = "/";
  return p;
}

Result<std::unique_ptr<TestContainer>> TestContainer::create(Sandbox& sb, const std::string& rootfs,
                                                             const std::string& id,
                                                             const oci::Spec& spec,
                                                             StdioMode stdio) {
  std::unique_ptr<TestContainer> c(new TestContainer(sb, id));
  HULL_ASSIGN(share, SharedRootfs::create(sb.paths().shared_dir, id, rootfs, true));
  c->share_ = std::move(share);
  HULL_TRY(c->client_.create(id, oci::serialize_spec(spec), stdio));
  return c;
}

Status TestContainer::remove() {
  if (removed_) return {};
  removed_ = true;
  auto st = client_.remove(id_);
  auto un = share_.remove();
  if (!st) return st;
  return un;
}

Status TestContainer::unshare() {
  removed_ = true;
  return share_.remove();
}

TestContainer::~TestContainer() {
  (void)remove();
}

Result<std::string> read_all(ContainerClient& c, const std::string& id, const std::string& exec_id,
                             OutputStream which, std::chrono::milliseconds timeout) {
  std::string out;
  HULL_TRY(c.read_output(
      id, exec_id, which,
      [&out](std::string_view chunk) {
        out.append(chunk);
        return Status{};
      },
      timeout));
  return out;
}

}  // namespace hull::sandbox::testing
