#include "sandbox_env.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hull::sandbox::testing {

namespace fs = std::filesystem;

namespace {

std::string guest_dir() {
  return std::string(HULL_BINARY_DIR) + "/guest";
}
std::string vsock_binary() {
  return std::string(HULL_BINARY_DIR) + "/runtime/vsock/hull-vsock";
}

std::string read_small(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool environment_ready(std::string* why) {
  for (const std::string& p : {guest_dir() + "/vmlinux", guest_dir() + "/initrd.img",
                               vsock_binary(), std::string("/usr/bin/qemu-system-x86_64")}) {
    if (::access(p.c_str(), R_OK) != 0) {
      *why = p + " is missing (build the guest-image and hull-vsock targets)";
      return false;
    }
  }
  return true;
}

std::string make_root() {
  char tmpl[] = "/tmp/hull-it-XXXXXX";
  char* d = ::mkdtemp(tmpl);
  return d ? std::string(d) : std::string();
}

SandboxOptions options_for(const std::string& root, const std::string& id) {
  SandboxOptions o;
  o.id = id;
  o.root = root;
  o.config.vm.kernel = guest_dir() + "/vmlinux";
  o.config.vm.initrd = guest_dir() + "/initrd.img";
  o.config.vm.vcpus = 1;
  o.config.vm.memory_mib = 256;
  o.hull_vsock_path = vsock_binary();
  o.agent_timeout = std::chrono::milliseconds(60000);
  return o;
}

std::vector<std::string> mounts_under(const std::string& root) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, mroot, mp;
    if (!(f >> id >> parent >> devno >> mroot >> mp)) continue;
    if (mp == root || mp.rfind(root + "/", 0) == 0) out.push_back(mp);
  }
  return out;
}

std::vector<pid_t> processes_mentioning(const std::string& root) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = read_small("/proc/" + name + "/cmdline");
    for (char& c : cmd) {
      if (c == '\0') c = ' ';
    }
    if (cmd.find(root + "/") != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

std::vector<pid_t> our_children() {
  std::vector<pid_t> out;
  const pid_t me = ::getpid();
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_small("/proc/" + name + "/stat");
    size_t rp = stat.rfind(')');
    if (rp == std::string::npos) continue;
    std::istringstream f(stat.substr(rp + 2));
    char state;
    pid_t ppid;
    if (f >> state >> ppid && ppid == me) out.push_back(std::stoi(name));
  }
  return out;
}

std::string leftovers(const std::string& root) {
  std::string out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string p = it->path();
    if (p == root + "/sandboxes") continue;
    out += p + "\n";
  }
  return out;
}

void cleanup_root(const std::string& root) {
  if (root.empty() || !leftovers(root).empty()) return;
  ::rmdir((root + "/sandboxes").c_str());
  ::rmdir(root.c_str());
}

}  // namespace hull::sandbox::testing
