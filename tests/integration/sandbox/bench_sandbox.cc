// bench-sandbox: where the time of Sandbox::start() goes, and what an idle
// sandbox costs in memory. Driven by scripts/bench/sandbox.sh.
//
//   bench-sandbox [--runs N] [--idle N] [--tb-size MiB] [--json PATH]
//
// Timing (median over --runs sequential starts). Host and guest clocks are
// tied together by one GetGuestDetails call right after start: the guest's
// CLOCK_BOOTTIME at the reply, placed at the call's midpoint on the host,
// gives the host time of the guest kernel's start.
//   before_qemu_exec   start() -> QEMU spawned (dirs, mount, hull-vsock, virtiofsd)
//   qemu_to_kernel     QEMU spawned -> guest kernel starts (derived, +-RPC latency)
//   kernel_to_agent    guest kernel start -> agent service accepting (guest clock)
//   agent_to_health    agent accepting -> host got the Health answer
//   start_total        start() -> returns (includes the QMP handshake)
//   stop_destroy_rpc   stop() -> DestroySandbox answered
//   stop_vm_exit       DestroySandbox answered -> QEMU ended (guest powers off)
//   stop_total         stop()
// Memory: --idle sandboxes up at once, settled for 2 s, then smaps_rollup
// Pss, Pss_Anon, Pss_Shmem per process tree (virtiofsd's worker runs as its
// child in a namespace) averaged per sandbox.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox_env.h"

namespace {

using namespace hull::sandbox;
using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Pss {
  double pss = 0, anon = 0, shmem = 0;  // KiB
};

Pss read_rollup(pid_t pid) {
  Pss p;
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  while (std::getline(in, line)) {  // "Pss_Anon:   1234 kB"; the first line is the range
    std::istringstream f(line);
    std::string key;
    double v = 0;
    if (!(f >> key >> v)) continue;
    if (key == "Pss:") p.pss = v;
    if (key == "Pss_Anon:") p.anon = v;
    if (key == "Pss_Shmem:") p.shmem = v;
  }
  return p;
}

// pid and every descendant (via /proc/<pid>/task/<tid>/children).
std::vector<pid_t> tree(pid_t root) {
  std::vector<pid_t> out{root};
  for (size_t i = 0; i < out.size(); ++i) {
    std::error_code ec;
    for (const auto& t :
         std::filesystem::directory_iterator("/proc/" + std::to_string(out[i]) + "/task", ec)) {
      std::ifstream in(t.path() / "children");
      pid_t c;
      while (in >> c) out.push_back(c);
    }
  }
  return out;
}

Pss tree_pss(pid_t root) {
  Pss sum;
  for (pid_t p : tree(root)) {
    Pss x = read_rollup(p);
    sum.pss += x.pss;
    sum.anon += x.anon;
    sum.shmem += x.shmem;
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5, idle = 8;
  uint32_t tb_size = 0;
  std::string json_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--runs")
      runs = std::stoi(v);
    else if (f == "--idle")
      idle = std::stoi(v);
    else if (f == "--tb-size")
      tb_size = static_cast<uint32_t>(std::stoul(v));
    else if (f == "--json")
      json_path = v;
    else {
      std::fprintf(stderr, "bench-sandbox: unknown option %s\n", f.c_str());
      return 2;
    }
  }
  std::string why;
  if (!testing::environment_ready(&why)) {
    std::fprintf(stderr, "bench-sandbox: %s\n", why.c_str());
    return 77;
  }
  const std::string root = testing::make_root();
  auto opts = [&](const std::string& id) {
    auto o = testing::options_for(root, id);
    o.tcg_tb_size_mib = tb_size;
    return o;
  };

  std::map<std::string, std::vector<double>> t;
  for (int r = 0; r < runs; ++r) {
    auto sb = Sandbox::start(opts("bench" + std::to_string(r)));
    if (!sb) {
      std::fprintf(stderr, "bench-sandbox: run %d: %s\n", r, sb.error().what().c_str());
      return 1;
    }
    const StartTimings& st = (*sb)->timings();
    auto before = Clock::now();
    auto d = (*sb)->agent().guest_details();
    auto after = Clock::now();
    if (!d) {
      std::fprintf(stderr, "bench-sandbox: guest details: %s\n", d.error().what().c_str());
      return 1;
    }
    auto mid = before + (after - before) / 2;
    auto kernel_start = mid - std::chrono::nanoseconds(d->now_boottime_ns());
    auto agent_ready = kernel_start + std::chrono::nanoseconds(d->agent_ready_boottime_ns());
    t["before_qemu_exec"].push_back(ms(st.qemu_exec - st.begin));
    t["qemu_to_kernel"].push_back(ms(kernel_start - st.qemu_exec));
    t["kernel_to_agent"].push_back(d->agent_ready_boottime_ns() / 1e6);
    t["agent_to_health"].push_back(ms(st.agent_healthy - agent_ready));
    t["start_total"].push_back(ms(st.end - st.begin));
    auto s0 = Clock::now();
    if (auto s = (*sb)->stop(); !s) {
      std::fprintf(stderr, "bench-sandbox: stop: %s\n", s.error().what().c_str());
      return 1;
    }
    t["stop_total"].push_back(ms(Clock::now() - s0));
    const StopTimings& sp = (*sb)->stop_timings();
    if (sp.destroy_answered != Clock::time_point{}) {
      t["stop_destroy_rpc"].push_back(ms(sp.destroy_answered - sp.begin));
      t["stop_vm_exit"].push_back(ms(sp.qemu_ended - sp.destroy_answered));
    }
  }

  std::vector<std::unique_ptr<Sandbox>> boxes;
  for (int i = 0; i < idle; ++i) {
    auto sb = Sandbox::start(opts("idle" + std::to_string(i)));
    if (!sb) {
      std::fprintf(stderr, "bench-sandbox: idle %d: %s\n", i, sb.error().what().c_str());
      return 1;
    }
    boxes.push_back(std::move(*sb));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::map<std::string, Pss> mem;
  for (auto& b : boxes) {
    for (auto [name, pid] : {std::pair<std::string, pid_t>{"qemu", b->qemu_pid()},
                             {"virtiofsd", b->virtiofsd_pid()},
                             {"hull-vsock", b->vsock_pid()}}) {
      Pss p = tree_pss(pid);
      mem[name].pss += p.pss / idle;
      mem[name].anon += p.anon / idle;
      mem[name].shmem += p.shmem / idle;
    }
  }
  for (auto& b : boxes) (void)b->stop();
  boxes.clear();
  testing::cleanup_root(root);
  Pss total;
  for (auto& [name, p] : mem) {
    total.pss += p.pss;
    total.anon += p.anon;
    total.shmem += p.shmem;
  }
  mem["total"] = total;

  std::printf("sandbox start (median of %d runs, tb-size %s)\n", runs,
              tb_size ? (std::to_string(tb_size) + " MiB").c_str() : "default");
  std::printf("  %-18s %10s\n", "step", "ms");
  for (const char* k : {"before_qemu_exec", "qemu_to_kernel", "kernel_to_agent", "agent_to_health",
                        "start_total", "stop_destroy_rpc", "stop_vm_exit", "stop_total"}) {
    std::printf("  %-18s %10.1f\n", k, median(t[k]));
  }
  std::printf("memory per idle sandbox (%d up, KiB)\n", idle);
  std::printf("  %-12s %10s %10s %10s\n", "process", "Pss", "Pss_Anon", "Pss_Shmem");
  for (const char* k : {"qemu", "virtiofsd", "hull-vsock", "total"}) {
    std::printf("  %-12s %10.0f %10.0f %10.0f\n", k, mem[k].pss, mem[k].anon, mem[k].shmem);
  }

  if (!json_path.empty()) {
    nlohmann::json j;
    j["runs"] = runs;
    j["idle_sandboxes"] = idle;
    j["tcg_tb_size_mib"] = tb_size;
    for (auto& [k, v] : t) {
      j["start_ms"][k]["median"] = median(v);
      j["start_ms"][k]["samples"] = v;
    }
    for (auto& [k, p] : mem) {
      j["pss_kib_per_sandbox"][k] = {{"Pss", p.pss}, {"Pss_Anon", p.anon}, {"Pss_Shmem", p.shmem}};
    }
    std::ofstream(json_path) << j.dump(2) << "\n";
  }
  return 0;
}
