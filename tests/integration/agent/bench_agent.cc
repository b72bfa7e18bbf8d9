// bench-agent: container operations inside one running sandbox, against runc
// on the host as the reference, in the same run. Driven by scripts/bench/agent.sh.
//
//   bench-agent [--runs N] [--json PATH] [--runc PATH]
//
// Median over --runs (default 20) of
//   run_true   hull: CreateContainer + StartContainer + WaitProcess of /bin/true
//              (the rootfs share and RemoveContainer are outside the timing);
//              runc: `runc run` of the same busybox bundle (create, start, wait)
//   exec_true  hull: ExecProcess /bin/true + WaitProcess in a running container;
//              runc: `runc exec` into a running `runc run -d` container
//   cat_64m    stdout throughput (MB/s) of `cat` of a 64 MiB file in the rootfs:
//              hull through the ReadStdout stream (the file comes over
//              virtio-fs), runc through a pipe to this process
// The sandbox boots once (TCG unless KVM is usable); its boot is not measured here
// (scripts/bench/sandbox.sh does that).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent_env.h"
#include "sandbox_env.h"

extern char** environ;

namespace {

using namespace hull;
using namespace hull::sandbox;
using namespace hull::sandbox::testing;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr size_t kCatBytes = 64 << 20;

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench-agent: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T must(Result<T> r, const std::string& what) {
  if (!r) die(what + ": " + r.error().what());
  return std::move(*r);
}
void must(Status s, const std::string& what) {
  if (!s) die(what + ": " + s.error().what());
}

// Runs argv with stdin /dev/null and stdout to `out_fd` (-1: /dev/null),
// stderr to /dev/null; returns the pid.
pid_t spawn(const std::vector<std::string>& argv, int out_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) die("spawn " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

int wait_pid(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int run(const std::vector<std::string>& argv) {
  return wait_pid(spawn(argv, -1));
}

struct Runc {
  std::string bin;
  std::string root;    // --root
  std::string bundle;  // config.json + rootfs

  std::vector<std::string> cmd(std::vector<std::string> rest) const {
    std::vector<std::string> a{bin, "--root", root};
    a.insert(a.end(), rest.begin(), rest.end());
    return a;
  }
  void write_config(const std::vector<std::string>& args) const {
    oci::Spec s = busybox_spec("unused", args);
    s.root->path = bundle + "/rootfs";
    std::ofstream(bundle + "/config.json") << oci::serialize_spec(s);
  }
};

}  // namespace

int main(int argc, char** argv) {
  int runs = 20;
  std::string json_path, runc_bin = "/usr/sbin/runc";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--runs")
      runs = std::max(1, std::atoi(v.c_str()));
    else if (f == "--json")
      json_path = v;
    else if (f == "--runc")
      runc_bin = v;
    else
      die("unknown flag " + f + " (--runs N --json PATH --runc PATH)");
  }
  std::string why;
  if (!environment_ready(&why)) die(why);
  if (::access(runc_bin.c_str(), X_OK) != 0) die(runc_bin + " is missing");

  std::string root = make_root();
  if (root.empty()) die("mkdtemp");
  std::string bundle = root + "/bundle";
  std::string rootfs = bundle + "/rootfs";
  if (!make_busybox_rootfs(rootfs, &why)) die(why);
  fs::create_directories(rootfs + "/data");
  {
    std::ofstream f(rootfs + "/data/64m", std::ios::binary);
    std::string block(1 << 20, 'x');
    for (size_t i = 0; i < kCatBytes / block.size(); ++i) f << block;
  }

  std::map<std::string, std::vector<double>> hull_t, runc_t;
  std::string accel;
  double guest_used_kib = 0;
  std::string agent_status;

  // ---- hull: one sandbox ------------------------------------------------------
  {
    auto sb = must(Sandbox::start(options_for(root, "bench-agent")), "sandbox start");
    GrpcContainerClient cc(sb->agent());
    accel = sb->accel() == config::Accel::Kvm ? "kvm" : "tcg";
    int n = 0;
    auto next = [&n](const std::string& base) { return base + "-" + std::to_string(n++); };

    // The agent's footprint before any container: guest memory in use, and the
    // agent's RSS and threads (/proc/1/status, read by a container that shares
    // the guest's pid namespace).
    auto d = must(sb->agent().guest_details(), "GetGuestDetails");
    guest_used_kib = static_cast<double>(d.mem_total_kib() - d.mem_available_kib());
    {
      std::string id = next("status");
      auto share = must(SharedRootfs::create(sb->paths().shared_dir, id, rootfs, true), "share");
      oci::Spec s = busybox_spec(
          id, {"sh", "-c", "cat /proc/1/status; echo Threadnames: $(cat /proc/1/task/*/comm)"});
      std::erase_if(*s.linux->namespaces,
                    [](const oci::Namespace& ns) { return ns.type == "pid"; });
      must(cc.create(id, oci::serialize_spec(s), {}), "create status");
      must(cc.start(id), "start status");
      agent_status = must(read_all(cc, id, "", OutputStream::Stdout), "read /proc/1/status");
      must(cc.remove(id), "remove status");
      must(share.remove(), "unshare");
    }

    for (int i = 0; i < runs + 1; ++i) {  // the first run warms caches and is dropped
      std::string id = next("true");
      auto share =
          must(SharedRootfs::create(sb->paths().shared_dir, id, rootfs, true), "share rootfs");
      std::string spec = oci::serialize_spec(busybox_spec(id, {"/bin/true"}));
      auto t0 = Clock::now();
      must(cc.create(id, spec, {}), "CreateContainer");
      auto tc = Clock::now();
      must(cc.start(id), "StartContainer");
      auto ts = Clock::now();
      auto w = must(cc.wait(id, "", std::chrono::seconds(60)), "WaitProcess");
      auto t1 = Clock::now();
      if (w.code != 0) die("/bin/true exited " + std::to_string(w.code));
      auto tr = Clock::now();
      must(cc.remove(id), "RemoveContainer");
      auto trd = Clock::now();
      must(share.remove(), "unshare");
      if (i > 0) {
        hull_t["run_true"].push_back(ms(t1 - t0));
        hull_t["run_true.create"].push_back(ms(tc - t0));
        hull_t["run_true.start"].push_back(ms(ts - tc));
        hull_t["run_true.wait"].push_back(ms(t1 - ts));
        hull_t["remove"].push_back(ms(trd - tr));
      }
    }

    std::string id = next("long");
    auto share = must(SharedRootfs::create(sb->paths().shared_dir, id, rootfs, true), "share");
    must(cc.create(id, oci::serialize_spec(busybox_spec(id, {"sleep", "100000"})), {}), "create");
    must(cc.start(id), "start");
    oci::Process true_proc = shell_process("x");
    true_proc.args = std::vector<std::string>{"/bin/true"};
    std::string true_json = process_json(true_proc);
    for (int i = 0; i < runs + 1; ++i) {
      std::string eid = "t" + std::to_string(i);
      auto t0 = Clock::now();
      must(cc.exec(id, eid, true_json, {}), "ExecProcess");
      auto te = Clock::now();
      auto w = must(cc.wait(id, eid, std::chrono::seconds(60)), "WaitProcess exec");
      auto t1 = Clock::now();
      if (w.code != 0) die("exec /bin/true exited " + std::to_string(w.code));
      if (i > 0) {
        hull_t["exec_true"].push_back(ms(t1 - t0));
        hull_t["exec_true.exec"].push_back(ms(te - t0));
        hull_t["exec_true.wait"].push_back(ms(t1 - te));
      }
    }
    for (int i = 0; i < runs + 1; ++i) {
      auto t0 = Clock::now();
      must(sb->agent().health(), "Health");
      if (i > 0) hull_t["health_rpc"].push_back(ms(Clock::now() - t0));
    }
    oci::Process cat = shell_process("x");
    cat.args = std::vector<std::string>{"cat", "/data/64m"};
    std::string cat_json = process_json(cat);
    for (int i = 0; i < runs + 1; ++i) {
      std::string eid = "cat" + std::to_string(i);
      size_t got = 0;
      auto t0 = Clock::now();
      must(cc.exec(id, eid, cat_json, {}), "ExecProcess cat");
      must(cc.read_output(id, eid, OutputStream::Stdout,
                          [&got](std::string_view s) {
                            got += s.size();
                            return Status{};
                          }),
           "ReadStdout");
      auto t1 = Clock::now();
      (void)must(cc.wait(id, eid, std::chrono::seconds(60)), "WaitProcess cat");
      if (got != kCatBytes) die("cat gave " + std::to_string(got) + " bytes");
      if (i > 0) hull_t["cat_64m_MBps"].push_back(kCatBytes / 1e6 / (ms(t1 - t0) / 1e3));
    }
    must(cc.remove(id), "remove");
    must(share.remove(), "unshare");
    must(sb->stop(), "sandbox stop");
  }

  // ---- runc on the host ---------------------------------------------------------
  {
    Runc r{runc_bin, root + "/runc", bundle};
    fs::create_directories(r.root);
    r.write_config({"/bin/true"});
    for (int i = 0; i < runs + 1; ++i) {
      std::string id = "hull-bench-true-" + std::to_string(::getpid()) + "-" + std::to_string(i);
      auto t0 = Clock::now();
      int rc = run(r.cmd({"run", "--bundle", bundle, id}));
      auto t1 = Clock::now();
      (void)run(r.cmd({"delete", "-f", id}));
      if (rc != 0) die("runc run /bin/true exited " + std::to_string(rc));
      if (i > 0) runc_t["run_true"].push_back(ms(t1 - t0));
    }
    r.write_config({"sleep", "100000"});
    std::string id = "hull-bench-long-" + std::to_string(::getpid());
    if (int rc = run(r.cmd({"run", "-d", "--bundle", bundle, id})); rc != 0) {
      die("runc run -d exited " + std::to_string(rc));
    }
    for (int i = 0; i < runs + 1; ++i) {
      auto t0 = Clock::now();
      int rc = run(r.cmd({"exec", id, "/bin/true"}));
      auto t1 = Clock::now();
      if (rc != 0) die("runc exec /bin/true exited " + std::to_string(rc));
      if (i > 0) runc_t["exec_true"].push_back(ms(t1 - t0));
    }
    for (int i = 0; i < runs + 1; ++i) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) die("pipe");
      ::fcntl(p[0], F_SETPIPE_SZ, 256 << 10);
      auto t0 = Clock::now();
      pid_t pid = spawn(r.cmd({"exec", id, "cat", "/data/64m"}), p[1]);
      ::close(p[1]);
      size_t got = 0;
      std::vector<char> buf(128 << 10);
      for (;;) {
        ssize_t n = ::read(p[0], buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      auto t1 = Clock::now();
      ::close(p[0]);
      (void)wait_pid(pid);
      if (got != kCatBytes) die("runc cat gave " + std::to_string(got) + " bytes");
      if (i > 0) runc_t["cat_64m_MBps"].push_back(kCatBytes / 1e6 / (ms(t1 - t0) / 1e3));
    }
    (void)run(r.cmd({"delete", "-f", id}));
    fs::remove_all(r.root);
  }
  fs::remove_all(bundle);
  cleanup_root(root);

  // ---- report -----------------------------------------------------------------
  struct Row {
    const char* key;
    const char* what;
    const char* unit;
  };
  const Row rows[] = {
      {"run_true", "create+start+wait /bin/true", "ms"},
      {"exec_true", "exec+wait /bin/true", "ms"},
      {"cat_64m_MBps", "stdout of cat 64 MiB", "MB/s"},
  };
  std::printf("agent bench: median of %d runs (hull in one %s sandbox vs runc on the host)\n", runs,
              accel.c_str());
  std::printf("  %-30s %12s %12s %10s\n", "operation", "hull", "runc", "hull/runc");
  nlohmann::json j;
  j["bench"] = "agent";
  j["runs"] = runs;
  j["accel"] = accel;
  for (const Row& row : rows) {
    double h = median(hull_t[row.key]), rc = median(runc_t[row.key]);
    double ratio = rc > 0 ? h / rc : 0;
    std::printf("  %-30s %9.1f %-3s %8.1f %-3s %9.2fx\n", row.what, h, row.unit, rc, row.unit,
                ratio);
    j["results"][row.key] = {{"unit", row.unit},
                             {"hull_median", h},
                             {"runc_median", rc},
                             {"hull_over_runc", ratio},
                             {"hull_samples", hull_t[row.key]},
                             {"runc_samples", runc_t[row.key]}};
  }
  std::printf("  hull only (ms): ");
  for (const char* k : {"run_true.create", "run_true.start", "run_true.wait", "exec_true.exec",
                        "exec_true.wait", "remove", "health_rpc"}) {
    std::printf("%s %.1f  ", k, median(hull_t[k]));
    j["hull_detail_ms"][k] = median(hull_t[k]);
  }
  std::printf("\n");
  auto status_field = [&agent_status](const std::string& key) -> std::string {
    size_t at = agent_status.find("\n" + key + ":");
    if (at == std::string::npos) return "?";
    std::string v = agent_status.substr(at + key.size() + 2);
    v = v.substr(0, v.find('\n'));
    v.erase(0, v.find_first_not_of(" \t"));
    return v;
  };
  std::printf("  guest memory in use after boot: %.0f KiB; agent VmRSS %s, threads %s (%s)\n",
              guest_used_kib, status_field("VmRSS").c_str(), status_field("Threads").c_str(),
              status_field("Threadnames").c_str());
  j["agent_thread_names"] = status_field("Threadnames");
  j["guest_used_kib_after_boot"] = guest_used_kib;
  j["agent_vmrss"] = status_field("VmRSS");
  j["agent_threads"] = status_field("Threads");
  if (!json_path.empty()) {
    std::ofstream(json_path) << j.dump(2) << "\n";
    std::printf("wrote %s\n", json_path.c_str());
  }
  return 0;
}
