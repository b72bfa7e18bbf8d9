// The pure parts of hull::container: signal names, /proc stat parsing, the
// state machine, the monitor handshake's wire format, VM sizing and the guest
// spec.
#include <unistd.h>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>

#include <chrono>
#include <csignal>
#include <thread>

#include "runtime/container/lifecycle.h"
#include "runtime/container/proc.h"
#include "runtime/container/signals.h"
#include "runtime/container/sizing.h"
#include "runtime/container/sync.h"
#include "runtime/monitor/monitor.h"
#include "runtime/share/share.h"

namespace hull::container {
namespace {

TEST(Signals, WhichEndAProcess) {
  for (int sig : {SIGTERM, SIGKILL, SIGSEGV, SIGHUP, SIGUSR1, SIGPIPE, SIGRTMIN, SIGRTMAX}) {
    EXPECT_TRUE(signal_ends_process(sig)) << sig;
  }
  for (int sig : {0, -1, SIGRTMAX + 1, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGCHLD, SIGURG,
                  SIGWINCH}) {
    EXPECT_FALSE(signal_ends_process(sig)) << sig;
  }
}

// What the monitor does with a status the guest reported: a process ends,
// whatever signal the guest names (before, "killed by SIGSTOP" stopped it).
int end_like(ExitStatus st) {
  pid_t pid = ::fork();
  if (pid == 0) exit_like(st);
  int status = 0;
  for (int i = 0; i < 500; ++i) {
    pid_t r = ::waitpid(pid, &status, WNOHANG | WUNTRACED);
    if (r == pid && WIFSTOPPED(status)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    if (r == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -2;
}

TEST(ExitLike, GuestReportedStopSignalEndsTheMonitor) {
  for (int sig : {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGCHLD, SIGWINCH}) {
    int st = end_like(ExitStatus{128 + sig, true, sig});
    ASSERT_TRUE(WIFEXITED(st)) << "signal " << sig << ": status " << st;
    EXPECT_EQ(WEXITSTATUS(st), 128 + sig);
  }
  int st = end_like(ExitStatus{128 + SIGTERM, true, SIGTERM});
  ASSERT_TRUE(WIFSIGNALED(st));
  EXPECT_EQ(WTERMSIG(st), SIGTERM);
  st = end_like(ExitStatus{3, false, 0});
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 3);
}

TEST(Signals, RuncSpellings) {
  for (const char* s : {"KILL", "SIGKILL", "kill", "sigkill", "9"}) {
    auto r = parse_signal(s);
    ASSERT_TRUE(r) << s;
    EXPECT_EQ(*r, SIGKILL) << s;
  }
  EXPECT_EQ(*parse_signal("TERM"), SIGTERM);
  EXPECT_EQ(*parse_signal("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(*parse_signal("WINCH"), SIGWINCH);
  EXPECT_EQ(*parse_signal("RTMIN"), SIGRTMIN);
  EXPECT_EQ(*parse_signal("SIGRTMIN+2"), SIGRTMIN + 2);
  EXPECT_EQ(*parse_signal("RTMAX-1"), SIGRTMAX - 1);
  EXPECT_EQ(*parse_signal("0"), 0);  // the liveness probe, as `runc kill ID 0`
}

TEST(Signals, Rejects) {
  for (const char* s :
       {"", "FOO", "SIG", "SIG0", "-1", "65", "RTMIN+99", "RTMAX+1", "9x", "SIGKILLX"}) {
    auto r = parse_signal(s);
    ASSERT_FALSE(r) << s;
    EXPECT_EQ(r.error().code, Errc::Invalid);
    EXPECT_NE(r.error().msg.find("unknown signal"), std::string::npos);
  }
}

TEST(Signals, Names) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
}

TEST(ProcStat, ParsesStateAndStartTime) {
  auto st = parse_proc_stat(
      "1234 (a b) c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10",
      kProcStatStartTime);
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->start_time, 987654u);
}

TEST(ProcStat, RejectsShortOrGarbled) {
  EXPECT_FALSE(parse_proc_stat("", kProcStatStartTime));
  EXPECT_FALSE(parse_proc_stat("1 (x) S 1 2 3", kProcStatStartTime));
  EXPECT_FALSE(
      parse_proc_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x 0", kProcStatStartTime));
}

TEST(ProcStat, OwnProcess) {
  auto st = read_proc_stat(::getpid(), kProcStatStartTime);
  ASSERT_TRUE(st);
  EXPECT_TRUE(process_alive(::getpid(), st->start_time));
  EXPECT_FALSE(process_alive(::getpid(), st->start_time + 1));  // a recycled pid
  EXPECT_FALSE(process_alive(0, 0));
  auto fd = open_pidfd(::getpid(), st->start_time + 1);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code, Errc::NotRunning);
}

using S = ContainerStatus;

TEST(Lifecycle, TransitionsAndRuncWords) {
  EXPECT_EQ(*transition("c", S::Created, Op::Start), S::Running);
  EXPECT_EQ(transition("c", S::Stopped, Op::Start).error().msg,
            "cannot start a container that has stopped");
  EXPECT_EQ(transition("c", S::Running, Op::Start).error().msg,
            "cannot start an already running container");
  EXPECT_EQ(transition("c", S::Paused, Op::Start).error().msg,
            "cannot start a container in the paused state");
  EXPECT_EQ(*transition("c", S::Created, Op::Pause), S::Paused);
  EXPECT_EQ(*transition("c", S::Running, Op::Pause), S::Paused);
  EXPECT_EQ(transition("c", S::Paused, Op::Pause).error().msg, "container not running");
  EXPECT_EQ(*transition("c", S::Paused, Op::Resume, S::Created), S::Created);
  EXPECT_EQ(transition("c", S::Running, Op::Resume).error().msg, "container not paused");
  EXPECT_EQ(transition("c", S::Stopped, Op::Kill).error().msg, "container not running");
  EXPECT_EQ(*transition("c", S::Stopped, Op::KillAll), S::Stopped);
  EXPECT_EQ(*transition("c", S::Created, Op::Delete), S::Stopped);
  EXPECT_EQ(transition("c1", S::Running, Op::Delete).error().msg,
            "cannot delete container c1 that is not stopped: running");
  EXPECT_EQ(*transition("c", S::Paused, Op::ForceDelete), S::Stopped);
  EXPECT_EQ(transition("c", S::Stopped, Op::Exec).error().msg,
            "cannot exec in a stopped container");
  EXPECT_EQ(transition("c", S::Paused, Op::Exec).error().code, Errc::Paused);
}

TEST(Lifecycle, DeadMonitorMeansStopped) {
  for (S s : {S::Creating, S::Created, S::Running, S::Paused, S::Stopped}) {
    EXPECT_EQ(derive_status(s, false), S::Stopped);
  }
  EXPECT_EQ(derive_status(S::Paused, true), S::Paused);
}

TEST(Sync, RoundTrip) {
  SyncMessage m;
  m.type = SyncType::Ready;
  m.body["sandbox_dir"] = "/run/hull/sandboxes/c1";
  auto back = parse_sync(encode_sync(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, SyncType::Ready);
  EXPECT_EQ(back->body["sandbox_dir"], "/run/hull/sandboxes/c1");

  SyncMessage e;
  e.type = SyncType::Error;
  e.error = Error{Errc::NotFound, ENOENT, "no such thing"};
  auto eb = parse_sync(encode_sync(e));
  ASSERT_TRUE(eb);
  EXPECT_EQ(eb->error.code, Errc::NotFound);
  EXPECT_EQ(eb->error.sys_errno, ENOENT);
  EXPECT_EQ(eb->error.msg, "no such thing");
  EXPECT_FALSE(eb->body.contains("code"));  // the error is in .error, not also in .body
}

TEST(Sync, RejectsBadPackets) {
  EXPECT_FALSE(parse_sync("not json"));
  EXPECT_FALSE(parse_sync("[]"));
  EXPECT_FALSE(parse_sync("{}"));
  EXPECT_FALSE(parse_sync(R"({"type":"launch"})"));
  EXPECT_FALSE(parse_sync(std::string(kMaxSyncMessageBytes + 1, ' ')));
}

TEST(Sync, OverASocketPairAndEof) {
  auto p = sync_pair();
  ASSERT_TRUE(p);
  SyncMessage c;
  c.type = SyncType::Commit;
  ASSERT_TRUE(send_sync(p->first.get(), c));
  auto got = recv_sync(p->second.get(), std::chrono::milliseconds(1000));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->type, SyncType::Commit);
  auto timeout = recv_sync(p->second.get(), std::chrono::milliseconds(10));
  EXPECT_EQ(timeout.error().code, Errc::Timeout);
  p->first.reset();
  auto eof = recv_sync(p->second.get(), std::chrono::milliseconds(1000));
  EXPECT_EQ(eof.error().code, Errc::NotRunning);
}

oci::Spec spec_with(std::optional<oci::Resources> r, oci::StringMap ann = {}) {
  oci::Spec s = oci::default_spec();
  if (r) s.linux->resources = *r;
  if (!ann.empty()) s.annotations = ann;
  return s;
}

// A host config that allows both sizing annotations, with caps above what the
// tests ask for (not this machine's CPUs and RAM).
config::Vm allowing() {
  config::Vm d;
  d.allowed_annotations = {kAnnotationVcpus, kAnnotationMemoryMib};
  d.max_vcpus = 255;
  d.max_memory_mib = 1 << 20;
  return d;
}

TEST(Sizing, DefaultsQuotaCpusetMemoryAnnotations) {
  config::Vm d = allowing();
  d.vcpus = 2;
  d.memory_mib = 512;
  auto plain = vm_size(spec_with(std::nullopt), d);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->vcpus, 2u);
  EXPECT_EQ(plain->memory_mib, 512u);

  oci::Resources r;
  r.cpu = oci::Cpu{};
  r.cpu->quota = 150000;
  r.cpu->period = 100000;
  r.memory = oci::Memory{};
  r.memory->limit = 64ll << 20;
  auto sized = vm_size(spec_with(r), d);
  ASSERT_TRUE(sized);
  EXPECT_EQ(sized->vcpus, 2u);  // ceil(1.5)
  EXPECT_EQ(sized->memory_mib, 64u + kGuestMemoryOverheadMiB);

  oci::Resources set;
  set.cpu = oci::Cpu{};
  set.cpu->cpus = "0-2,5";
  EXPECT_EQ(vm_size(spec_with(set), d)->vcpus, 4u);

  auto ann = vm_size(spec_with(r, {{kAnnotationVcpus, "3"}, {kAnnotationMemoryMib, "1024"}}), d);
  ASSERT_TRUE(ann);
  EXPECT_EQ(ann->vcpus, 3u);
  EXPECT_EQ(ann->memory_mib, 1024u);
}

TEST(Sizing, AnnotationNotAllowedIsRefusedNamingIt) {
  config::Vm d;  // the default: no annotation allowed
  d.max_vcpus = 8;
  d.max_memory_mib = 4096;
  auto r = vm_size(spec_with(std::nullopt, {{kAnnotationVcpus, "2"}}), d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Invalid);
  EXPECT_NE(r.error().msg.find("does not allow the annotation io.hull.vm.vcpus"), std::string::npos)
      << r.error().msg;
  EXPECT_NE(r.error().msg.find("vm.allowed_annotations"), std::string::npos) << r.error().msg;
  d.allowed_annotations = {kAnnotationVcpus};
  EXPECT_EQ(vm_size(spec_with(std::nullopt, {{kAnnotationVcpus, "2"}}), d)->vcpus, 2u);
  auto m = vm_size(spec_with(std::nullopt, {{kAnnotationMemoryMib, "512"}}), d);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().msg.find("does not allow the annotation io.hull.vm.memory-mib"),
            std::string::npos)
      << m.error().msg;
}

TEST(Sizing, CapsRefuseAnnotationsAndLowerTheRest) {
  config::Vm d = allowing();
  VmCaps caps{4, 1024};
  auto v = vm_size(spec_with(std::nullopt, {{kAnnotationVcpus, "5"}}), d, caps);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().msg.find("above this host's cap vm.max_vcpus = 4"), std::string::npos)
      << v.error().msg;
  auto m = vm_size(spec_with(std::nullopt, {{kAnnotationMemoryMib, "2048"}}), d, caps);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().msg.find("above this host's cap vm.max_memory_mib = 1024"), std::string::npos)
      << m.error().msg;
  EXPECT_TRUE(vm_size(spec_with(std::nullopt, {{kAnnotationMemoryMib, "1024"}}), d, caps));
  // linux.resources and the defaults are lowered to the caps, not refused.
  oci::Resources r;
  r.cpu = oci::Cpu{};
  r.cpu->quota = 800000;
  r.cpu->period = 100000;
  r.memory = oci::Memory{};
  r.memory->limit = 8ll << 30;
  auto low = vm_size(spec_with(r), d, caps);
  ASSERT_TRUE(low);
  EXPECT_EQ(low->vcpus, 4u);
  EXPECT_EQ(low->memory_mib, 1024u);
  d.vcpus = 16;
  EXPECT_EQ(vm_size(spec_with(std::nullopt), d, caps)->vcpus, 4u);
  EXPECT_EQ(host_memory_limit_bytes(256), (256ull + kHostMemoryOverheadMiB) << 20);
}

TEST(Sizing, CapsOfZeroAreTheHosts) {
  config::Vm d;
  VmCaps caps = vm_caps(d);
  EXPECT_EQ(caps.vcpus, static_cast<uint32_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_GE(caps.memory_mib, kMinMemoryMiB);
  d.max_vcpus = 3;
  d.max_memory_mib = 700;
  caps = vm_caps(d);
  EXPECT_EQ(caps.vcpus, 3u);
  EXPECT_EQ(caps.memory_mib, 700u);
}

TEST(Sizing, BadAnnotationsNameTheKey) {
  config::Vm d = allowing();
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{{kAnnotationVcpus, "0"},
                                                                      {kAnnotationVcpus, "lots"},
                                                                      {kAnnotationMemoryMib, "1"},
                                                                      {"io.hull.vm.gpu", "1"}}) {
    auto r = vm_size(spec_with(std::nullopt, {{k, v}}), d);
    ASSERT_FALSE(r) << k << "=" << v;
    EXPECT_NE(r.error().msg.find(k), std::string::npos) << r.error().msg;
  }
  EXPECT_TRUE(vm_size(spec_with(std::nullopt, {{"org.example", "x"}}), d));
  EXPECT_FALSE(count_cpuset("3-1"));
  EXPECT_FALSE(count_cpuset("a"));
  EXPECT_EQ(*count_cpuset("7"), 1u);
}

TEST(GuestSpec, RootfsBindMountsAndNamespaces) {
  oci::Spec s = oci::default_spec();
  oci::Mount vol;
  vol.destination = "/data";
  vol.type = "bind";
  vol.source = "/srv/data";
  vol.options = std::vector<std::string>{"rbind", "ro"};
  oci::Mount hosts;
  hosts.destination = "/etc/hosts";
  hosts.source = "/var/lib/x/hosts";
  hosts.options = std::vector<std::string>{"bind"};
  s.mounts->push_back(vol);
  s.mounts->push_back(hosts);
  size_t before = s.mounts->size();
  for (auto& ns : *s.linux->namespaces) {
    if (ns.type == "network") ns.path = "/var/run/netns/x";
  }
  auto g = guest_spec(s, "c1");
  ASSERT_TRUE(g) << g.error().what();
  EXPECT_EQ(g->root->path, "containers/c1/rootfs");
  ASSERT_EQ(g->mounts->size(), before);  // order kept
  EXPECT_EQ((*g->mounts)[before - 2].destination, "/data");
  // Named as the source is: the container's mountinfo root ends in "data".
  EXPECT_EQ((*g->mounts)[before - 2].source, "containers/c1/mounts/0/data");
  EXPECT_EQ((*g->mounts)[before - 2].options, (std::vector<std::string>{"rbind", "ro"}));
  EXPECT_EQ((*g->mounts)[before - 1].source, "containers/c1/mounts/1/hosts");
  EXPECT_EQ((*g->mounts)[0].source, s.mounts->front().source);  // proc stays proc
  bool cgroupns = false;
  for (const auto& ns : *g->linux->namespaces) {
    EXPECT_FALSE(ns.path) << ns.type;
    cgroupns = cgroupns || ns.type == "cgroup";
  }
  EXPECT_TRUE(cgroupns);

  for (auto& ns : *s.linux->namespaces) {
    if (ns.type == "ipc") ns.path = "/proc/1/ns/ipc";
  }
  auto refused = guest_spec(s, "c1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::Unsupported);
}

TEST(GuestSpec, NoMountNamespaceGetsOneInTheGuest) {
  // runtime-tools' linux_ns_itype: no namespaces at all. The VM's mount
  // namespace is the agent's; the container must not pivot it away.
  oci::Spec s = oci::default_spec();
  s.linux->namespaces = std::vector<oci::Namespace>{};
  auto g = guest_spec(s, "c1");
  ASSERT_TRUE(g) << g.error().what();
  std::vector<std::string> types;
  for (const auto& ns : *g->linux->namespaces) types.push_back(ns.type);
  EXPECT_EQ(types, (std::vector<std::string>{"cgroup", "mount"}));

  s.linux.reset();
  auto no_linux = guest_spec(s, "c1");
  ASSERT_TRUE(no_linux) << no_linux.error().what();
  EXPECT_EQ(no_linux->linux->namespaces->size(), 2u);
}

TEST(GuestSpec, SeccompNotifyIsRefusedBeforeAnyVmBoots) {
  oci::Spec s = oci::default_spec();
  oci::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.listener_path = "/run/seccomp-agent.sock";
  sc.syscalls = std::vector<oci::Syscall>(2);
  (*sc.syscalls)[0].names = {"mkdir"};
  (*sc.syscalls)[0].action = "SCMP_ACT_ERRNO";
  (*sc.syscalls)[1].names = {"chmod"};
  (*sc.syscalls)[1].action = "SCMP_ACT_NOTIFY";
  s.linux->seccomp = sc;
  auto g = guest_spec(s, "c1");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::Unsupported);
  EXPECT_EQ(g.error().msg,
            "config.json: linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY is not supported: a "
            "VM cannot pass the notification fd to the host's listenerPath");
  // A listener path alone has nothing to receive: accepted.
  (*s.linux->seccomp->syscalls)[1].action = "SCMP_ACT_LOG";
  EXPECT_TRUE(guest_spec(s, "c1"));
}

TEST(GuestSpec, BindName) {
  EXPECT_EQ(bind_name("/etc"), "etc");
  EXPECT_EQ(bind_name("/var/lib/x/hosts/"), "hosts");
  EXPECT_EQ(bind_name("data"), "data");
  EXPECT_EQ(bind_name("a//b//"), "b");
  for (const char* none : {"", "/", "//", ".", "..", "/x/..", "./"}) {
    EXPECT_EQ(bind_name(none), "source") << none;
  }
}

TEST(Sizing, PodFromCriSandboxAnnotations) {
  config::Vm d;
  d.vcpus = 1;
  d.memory_mib = 256;
  d.max_vcpus = 8;  // fixed caps: the host's own CPU count would cap the 3 below
  d.max_memory_mib = 4096;
  d.allowed_annotations = {kAnnotationVcpus};
  oci::Resources pause;  // CRI's own limits of the pause container do not size the VM
  pause.memory = oci::Memory{};
  pause.memory->limit = 8ll << 20;
  auto sandbox = [&](std::map<std::string, std::string> ann) {
    ann[kCriContainerType] = "sandbox";
    return spec_with(pause, {ann.begin(), ann.end()});
  };
  auto plain = pod_vm_size(sandbox({}), d);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->vcpus, 1u);
  EXPECT_EQ(plain->memory_mib, 256u);

  auto sized = pod_vm_size(sandbox({{kCriSandboxCpuQuota, "250000"},
                                    {kCriSandboxCpuPeriod, "100000"},
                                    {kCriSandboxCpuShares, "2560"},
                                    {kCriSandboxMemory, "268435456"}}),
                           d);
  ASSERT_TRUE(sized);
  EXPECT_EQ(sized->vcpus, 3u);  // ceil(2.5)
  EXPECT_EQ(sized->memory_mib, 256u + kGuestMemoryOverheadMiB);

  // No quota (-1 or 0) and no memory: the defaults; io.hull.* still win.
  auto unset = pod_vm_size(sandbox({{kCriSandboxCpuQuota, "-1"},
                                    {kCriSandboxCpuPeriod, "100000"},
                                    {kCriSandboxMemory, "0"},
                                    {kAnnotationVcpus, "2"}}),
                           d);
  ASSERT_TRUE(unset);
  EXPECT_EQ(unset->vcpus, 2u);
  EXPECT_EQ(unset->memory_mib, 256u);

  auto bad = pod_vm_size(sandbox({{kCriSandboxMemory, "lots"}}), d);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find(kCriSandboxMemory), std::string::npos) << bad.error().msg;

  // A pod's other containers, and ctr's tasks, are sized as in runc mode.
  auto app =
      spec_with(pause, {{kCriContainerType, "container"}, {kCriSandboxMemory, "1073741824"}});
  EXPECT_EQ(pod_vm_size(app, d)->memory_mib, kMinMemoryMiB);  // 8 + 96 MiB, raised to the minimum
}

}  // namespace
}  // namespace hull::container
