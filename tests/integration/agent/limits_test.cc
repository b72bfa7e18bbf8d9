// Resources through the agent in a real VM: memory.max, pids.max and cpu.max
// of the container's cgroup, an OOM kill reported as an OOM event, stats,
// UpdateContainer, device rules (and their update), every seccomp action and
// malformed profiles (answered, the agent goes on serving); and DestroySandbox
// with containers still running leaves the host clean.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "agent_fixture.h"

namespace hull::sandbox::testing {
namespace {

using namespace std::chrono_literals;

struct LimitsTag {
  static constexpr const char* kName = "ia-limits";
};
using LimitsTest = AgentFixture<LimitsTag>;

oci::Spec limited(const std::string& id, std::vector<std::string> args, int64_t memory,
                  int64_t pids) {
  oci::Spec s = busybox_spec(id, std::move(args));
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = memory;
  r.memory->swap = memory;  // no swap beyond the limit
  r.pids.emplace();
  r.pids->limit = pids;
  r.cpu.emplace();
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  s.linux->resources = r;
  return s;
}

TEST_F(LimitsTest, CgroupLimitsAreAppliedAndReported) {
  std::string id = next_id("lim");
  auto c = create(id, limited(id, {"sleep", "1000"}, 64 << 20, 16));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  auto s = cc.stats(id);
  ASSERT_TRUE(s) << s.error().what();
  EXPECT_EQ(s->memory_max(), 64u << 20);
  EXPECT_EQ(s->pids_max(), 16u);
  EXPECT_EQ(s->pids_current(), 1u);
  EXPECT_GT(s->memory_current(), 0u);
  // Seen from inside: the container's own cgroup files (cgroup namespace).
  ASSERT_TRUE(cc.exec(id, "cat",
                      process_json(shell_process("cat /sys/fs/cgroup/memory.max "
                                                 "/sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max")),
                      {}));
  auto out = read_all(cc, id, "cat", OutputStream::Stdout);
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(*out, "67108864\n16\n50000 100000\n");
  // pids.max holds: forks beyond 16 processes fail.
  ASSERT_TRUE(cc.exec(id, "fork",
                      process_json(shell_process("for i in $(seq 1 40); do sleep 2 & done; "
                                                 "echo forked")),
                      {}));
  auto s2 = cc.stats(id);
  ASSERT_TRUE(s2);
  EXPECT_LE(s2->pids_current(), 16u);
  auto fo = read_all(cc, id, "fork", OutputStream::Stderr);
  ASSERT_TRUE(fo) << fo.error().what();
  EXPECT_NE(fo->find("fork"), std::string::npos) << "no fork failure: " << *fo;
  // UpdateContainer changes the limits in place.
  ASSERT_TRUE(
      cc.update(id, R"({"memory":{"limit":134217728,"swap":134217728},"pids":{"limit":64}})"));
  auto s3 = cc.stats(id);
  ASSERT_TRUE(s3);
  EXPECT_EQ(s3->memory_max(), 128u << 20);
  EXPECT_EQ(s3->pids_max(), 64u);
  auto bad = cc.update(id, R"({"memory":{"limit":"lots"}})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::Invalid) << bad.error().what();
  EXPECT_NE(bad.error().what().find("memory.limit"), std::string::npos) << bad.error().what();
  EXPECT_TRUE((*c)->remove());
}

// "r PATH" / "w PATH" opens, each answered "ok" or busybox's error line.
std::string device_opens(const std::string& id, ContainerClient& cc, const std::string& exec_id) {
  std::string script =
      "for t in 'r /dev/x-c' 'w /dev/x-c' 'r /dev/x-b' 'w /dev/x-b' 'w /dev/null'; do set -- $t; "
      "if [ $1 = r ]; then out=$(head -c1 $2 2>&1 >/dev/null); "
      "else out=$( (printf x >$2) 2>&1); fi; echo \"$t: ${out:-ok}\"; done";
  if (!cc.exec(id, exec_id, process_json(shell_process(script)), {})) return "exec failed";
  auto out = read_all(cc, id, exec_id, OutputStream::Stdout);
  return out ? *out : out.error().what();
}

TEST_F(LimitsTest, DeviceRulesAreEnforcedAndUpdated) {
  std::string id = next_id("dev");
  oci::Spec s = busybox_spec(id, {"sleep", "1000"});
  // Nodes no driver answers: an allowed open fails with ENXIO, a denied one with EPERM.
  s.linux->devices = std::vector<oci::Device>{
      {"c", "/dev/x-c", 42, 42, 0666, std::nullopt, std::nullopt, oci::Json::object()},
      {"b", "/dev/x-b", 42, 42, 0666, std::nullopt, std::nullopt, oci::Json::object()}};
  oci::DeviceCgroup deny_all;
  deny_all.access = "rwm";
  oci::DeviceCgroup read_c;
  read_c.allow = true;
  read_c.type = "c";
  read_c.major = 42;
  read_c.minor = 42;
  read_c.access = "r";
  s.linux->resources->devices = std::vector<oci::DeviceCgroup>{deny_all, read_c};
  auto c = create(id, s);
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  std::string out = device_opens(id, cc, "d1");
  EXPECT_NE(out.find("r /dev/x-c: head: /dev/x-c: No such device or address"), std::string::npos)
      << out;
  EXPECT_NE(out.find("can't create /dev/x-c: Operation not permitted"), std::string::npos) << out;
  EXPECT_NE(out.find("r /dev/x-b: head: /dev/x-b: Operation not permitted"), std::string::npos)
      << out;
  EXPECT_NE(out.find("w /dev/null: ok"), std::string::npos) << out;
  // An update with devices replaces the rules: the block device opens, the char one is gone.
  ASSERT_TRUE(cc.update(id, R"({"devices":[{"allow":false,"access":"rwm"},)"
                            R"({"allow":true,"type":"b","major":42,"minor":42,"access":"rw"}]})"));
  out = device_opens(id, cc, "d2");
  EXPECT_NE(out.find("r /dev/x-c: head: /dev/x-c: Operation not permitted"), std::string::npos)
      << out;
  EXPECT_NE(out.find("r /dev/x-b: head: /dev/x-b: No such device or address"), std::string::npos)
      << out;
  EXPECT_NE(out.find("can't create /dev/x-b: No such device or address"), std::string::npos) << out;
  // An update without devices keeps them; a bad rule is refused naming it, and changes nothing.
  ASSERT_TRUE(cc.update(id, R"({"pids":{"limit":100}})"));
  auto bad = cc.update(id, R"({"pids":{"limit":50},"devices":[{"allow":true,"type":"c"}]})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::Invalid) << bad.error().what();
  EXPECT_NE(bad.error().what().find("linux.resources.devices[0].access"), std::string::npos)
      << bad.error().what();
  auto st = cc.stats(id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pids_max(), 100u);
  out = device_opens(id, cc, "d3");
  EXPECT_NE(out.find("r /dev/x-b: head: /dev/x-b: No such device or address"), std::string::npos)
      << out;
  EXPECT_TRUE((*c)->remove());
}

// Whatever a seccomp profile says, the agent answers CreateContainer and goes
// on serving: it is the VM's PID 1, and a crash there would take every other
// container of the sandbox with it. The host refuses NOTIFY before a VM boots;
// sent straight to the agent it is refused too, naming the field.
TEST_F(LimitsTest, SeccompNotifyIsRefusedAndTheAgentKeepsServing) {
  std::string id = next_id("notify");
  oci::Spec s = busybox_spec(id, {"true"});
  oci::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.listener_path = "/run/seccomp-agent.sock";
  sc.listener_metadata = "x";
  sc.syscalls = std::vector<oci::Syscall>(1);
  (*sc.syscalls)[0].names = {"mkdir"};
  (*sc.syscalls)[0].action = "SCMP_ACT_NOTIFY";
  s.linux->seccomp = sc;
  auto cc = client();
  auto r = cc.create(id, oci::serialize_spec(s), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Unsupported) << r.error().what();
  EXPECT_NE(r.error().what().find("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not "
                                  "supported"),
            std::string::npos)
      << r.error().what();
  EXPECT_TRUE(sb_->agent().health());
  std::string id2 = next_id("after");
  auto c = create(id2, busybox_spec(id2, {"true"}));
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_TRUE((*c)->remove());
}

oci::Seccomp deny_mkdir(const std::string& act) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  p.syscalls = std::vector<oci::Syscall>(1);
  (*p.syscalls)[0].names = {"mkdir", "mkdirat"};
  (*p.syscalls)[0].action = act;
  return p;
}

TEST_F(LimitsTest, EverySeccompActionRunsOrIsRefusedAndTheAgentKeepsServing) {
  auto cc = client();
  // Each action as the rule for mkdir: the container runs `mkdir /tmp/x`
  // under it (exit 159 = 128 + SIGSYS).
  const std::vector<std::pair<std::string, int>> runs = {
      {"SCMP_ACT_ALLOW", 0},         {"SCMP_ACT_LOG", 0},    {"SCMP_ACT_ERRNO", 1},
      {"SCMP_ACT_TRACE", 1},         {"SCMP_ACT_KILL", 159}, {"SCMP_ACT_KILL_PROCESS", 159},
      {"SCMP_ACT_KILL_THREAD", 159}, {"SCMP_ACT_TRAP", 159},
  };
  for (const auto& [act, status] : runs) {
    std::string id = next_id("act");
    oci::Spec s = busybox_spec(id, {"sh", "-c", "mkdir /tmp/x; exit $?"});
    s.linux->seccomp = deny_mkdir(act);
    auto c = create(id, s);
    ASSERT_TRUE(c) << act << ": " << c.error().what();
    ASSERT_TRUE(cc.start(id)) << act;
    auto w = cc.wait(id, "", 120s);
    ASSERT_TRUE(w) << act << ": " << w.error().what();
    EXPECT_EQ(w->code, status) << act;
    EXPECT_TRUE((*c)->remove()) << act;
  }
  // Each action as the default (the filter is built at create; it would stop
  // the shell's own calls, so these are created and removed unstarted).
  for (const std::string act :
       {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_LOG"}) {
    std::string id = next_id("def");
    oci::Spec s = busybox_spec(id, {"true"});
    s.linux->seccomp = deny_mkdir("SCMP_ACT_ALLOW");
    s.linux->seccomp->default_action = act;
    auto c = create(id, s);
    ASSERT_TRUE(c) << act << ": " << c.error().what();
    EXPECT_TRUE((*c)->remove()) << act;
  }

  // Malformed or refused profiles: an error naming the field, and the agent
  // answers the next request.
  struct Case {
    const char* what;
    std::function<void(oci::Seccomp&)> edit;
    Errc code;
    const char* field;  // the error names it
  };
  const std::vector<Case> refused = {
      {"notify rule",
       [](auto& p) {
         p.listener_path = "/run/l.sock";
         (*p.syscalls)[0].action = "SCMP_ACT_NOTIFY";
       },
       Errc::Unsupported, "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported"},
      {"notify without a listener", [](auto& p) { (*p.syscalls)[0].action = "SCMP_ACT_NOTIFY"; },
       Errc::Invalid, "linux.seccomp.listenerPath"},
      {"notify default",
       [](auto& p) {
         p.listener_path = "/run/l.sock";
         p.default_action = "SCMP_ACT_NOTIFY";
       },
       Errc::Invalid, "linux.seccomp.defaultAction"},
      {"unknown rule action", [](auto& p) { (*p.syscalls)[0].action = "SCMP_ACT_PANIC"; },
       Errc::Invalid, "linux.seccomp.syscalls[0].action"},
      {"unknown default action", [](auto& p) { p.default_action = "SCMP_ACT_MAYBE"; },
       Errc::Invalid, "linux.seccomp.defaultAction"},
      {"empty default action", [](auto& p) { p.default_action = ""; }, Errc::Invalid,
       "linux.seccomp.defaultAction"},
      {"unknown architecture",
       [](auto& p) { p.architectures = std::vector<std::string>{"SCMP_ARCH_PDP11"}; },
       Errc::Invalid, "linux.seccomp.architectures[0]"},
      {"architecture without prefix",
       [](auto& p) { p.architectures = std::vector<std::string>{"x86_64"}; }, Errc::Invalid,
       "linux.seccomp.architectures[0]"},
      {"unknown flag", [](auto& p) { p.flags = std::vector<std::string>{"TSYNC"}; }, Errc::Invalid,
       "linux.seccomp.flags[0]"},
      {"bad arg op",
       [](auto& p) {
         (*p.syscalls)[0].args = std::vector<oci::SeccompArg>{
             {0, 1, std::nullopt, "SCMP_CMP_EQUAL", oci::Json::object()}};
       },
       Errc::Invalid, "linux.seccomp.syscalls[0].args[0].op"},
      {"arg index 6",
       [](auto& p) {
         (*p.syscalls)[0].args =
             std::vector<oci::SeccompArg>{{6, 1, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()}};
       },
       Errc::Invalid, "linux.seccomp.syscalls[0].args[0].index"},
      {"errnoRet on a kill rule",
       [](auto& p) {
         (*p.syscalls)[0].action = "SCMP_ACT_KILL";
         (*p.syscalls)[0].errno_ret = 1;
       },
       Errc::Invalid, "linux.seccomp.syscalls[0].action"},
      {"errnoRet out of range",
       [](auto& p) {
         (*p.syscalls)[0].action = "SCMP_ACT_ERRNO";
         (*p.syscalls)[0].errno_ret = 70000;
       },
       Errc::Invalid, "linux.seccomp.syscalls[0].errnoRet"},
      {"defaultErrnoRet on allow", [](auto& p) { p.default_errno_ret = 1; }, Errc::Invalid,
       "linux.seccomp.defaultAction"},
      {"no names", [](auto& p) { (*p.syscalls)[0].names.clear(); }, Errc::Invalid,
       "linux.seccomp.syscalls[0].names"},
      {"an empty name", [](auto& p) { (*p.syscalls)[0].names = {""}; }, Errc::Invalid,
       "linux.seccomp.syscalls[0].names[0]"},
  };
  for (const auto& k : refused) {
    std::string id = next_id("bad");
    oci::Spec s = busybox_spec(id, {"true"});
    s.linux->seccomp = deny_mkdir("SCMP_ACT_ERRNO");
    k.edit(*s.linux->seccomp);
    auto c = create(id, s);
    ASSERT_FALSE(c) << k.what;
    EXPECT_EQ(c.error().code, k.code) << k.what << ": " << c.error().what();
    EXPECT_NE(c.error().what().find(k.field), std::string::npos)
        << k.what << ": " << c.error().what();
    ASSERT_TRUE(sb_->agent().health()) << k.what;
  }
  // Accepted as runc accepts them: unknown syscall names are skipped, a
  // listenerPath without a NOTIFY rule is unused.
  const std::vector<std::pair<const char*, std::function<void(oci::Seccomp&)>>> accepted = {
      {"unknown syscall names",
       [](auto& p) {
         (*p.syscalls)[0].names = {"no_such_call", "mkdir"};
       }},
      {"only unknown syscall names", [](auto& p) { (*p.syscalls)[0].names = {"no_such_call"}; }},
      {"listenerPath without notify", [](auto& p) { p.listener_path = "/run/l.sock"; }},
      {"no syscalls", [](auto& p) { p.syscalls.reset(); }},
  };
  for (const auto& [what, edit] : accepted) {
    std::string id = next_id("ok");
    oci::Spec s = busybox_spec(id, {"true"});
    s.linux->seccomp = deny_mkdir("SCMP_ACT_ERRNO");
    edit(*s.linux->seccomp);
    auto c = create(id, s);
    ASSERT_TRUE(c) << what << ": " << c.error().what();
    ASSERT_TRUE(cc.start(id)) << what;
    auto w = cc.wait(id, "", 120s);
    ASSERT_TRUE(w) << what << ": " << w.error().what();
    EXPECT_EQ(w->code, 0) << what;
    EXPECT_TRUE((*c)->remove()) << what;
  }
}

TEST_F(LimitsTest, CpuQuotaThrottles) {
  std::string id = next_id("cpu");
  auto c = create(id, limited(id, {"sh", "-c", "while :; do :; done"}, 64 << 20, 16));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  std::this_thread::sleep_for(300ms);
  auto a = cc.stats(id);
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(2s);
  auto b = cc.stats(id);
  auto wall_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_TRUE(a && b);
  double share =
      static_cast<double>(b->cpu_usage_usec() - a->cpu_usage_usec()) / static_cast<double>(wall_us);
  // 50% quota (guest time runs slower than ours under TCG, so only the upper bound is firm).
  EXPECT_LT(share, 0.65) << "cpu share " << share;
  EXPECT_GT(share, 0.05) << "cpu share " << share;
  EXPECT_TRUE((*c)->remove());
}

TEST_F(LimitsTest, OomKillIsReportedAsAnEvent) {
  auto cc = client();
  auto events = cc.oom_events(120s);
  ASSERT_TRUE(events) << events.error().what();
  std::optional<Result<std::optional<std::string>>> got;
  std::thread t([&] { got = (*events)->next(); });
  JoinOnExit join{t, [&] { (*events)->cancel(); }};
  std::string id = next_id("oom");
  // tail -c keeps the last 48 MiB in memory: far over a 16 MiB limit.
  auto c = create(id, limited(id,
                              {"sh", "-c",
                               "head -c 67108864 /dev/zero | tail -c 50331648 "
                               ">/dev/null; echo survived"},
                              16 << 20, 16));
  ASSERT_TRUE(c) << c.error().what();
  ASSERT_TRUE(cc.start(id));
  auto w = cc.wait(id, "", 120s);
  ASSERT_TRUE(w) << w.error().what();
  t.join();
  ASSERT_TRUE(got && *got) << (got ? got->error().what() : "no event");
  ASSERT_TRUE(**got);
  EXPECT_EQ(***got, id);
  auto s = cc.stats(id);
  ASSERT_TRUE(s) << s.error().what();
  EXPECT_GE(s->oom_kills(), 1u);
  EXPECT_TRUE((*c)->remove());
}

struct DestroyTag {
  static constexpr const char* kName = "ia-destroy";
};
using DestroyTest = AgentFixture<DestroyTag>;

TEST_F(DestroyTest, DestroySandboxWithRunningContainersLeavesTheHostClean) {
  auto cc = client();
  std::vector<std::unique_ptr<TestContainer>> cs;
  for (int i = 0; i < 3; ++i) {
    std::string id = next_id("d");
    auto c = create(id, busybox_spec(id, {"sleep", "1000"}));
    ASSERT_TRUE(c) << c.error().what();
    ASSERT_TRUE(cc.start(id));
    ASSERT_TRUE(cc.exec(id, "x", process_json(shell_process("sleep 1000")), {}));
    cs.push_back(std::move(*c));
  }
  // A waiter and an OOM stream are open while the sandbox goes away.
  auto events = cc.oom_events(120s);
  ASSERT_TRUE(events);
  std::optional<Result<ExitStatus>> waited;
  std::thread waiter([&] { waited = cc.wait(cs[0]->id(), "", 60s); });
  JoinOnExit join{waiter, [&] { (void)sb_->agent().destroy_sandbox(10s); }};
  std::this_thread::sleep_for(200ms);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sb_->agent().destroy_sandbox(10s));
  waiter.join();
  ASSERT_TRUE(waited.has_value());
  // Killed (137) before the reply, or told the sandbox is going away.
  if (*waited) {
    EXPECT_EQ((**waited).code, 137);
  } else {
    EXPECT_EQ(waited->error().code, Errc::NotRunning) << waited->error().what();
  }
  auto ev = (*events)->next();
  EXPECT_TRUE(!ev || !*ev) << "an OOM event after destroy";
  events->reset();
  // The agent powers the VM off by itself: QEMU exits without being asked.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (::kill(sb_->qemu_pid(), 0) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::string stat;
    std::ifstream("/proc/" + std::to_string(sb_->qemu_pid()) + "/stat") >> stat >> stat >> stat;
    if (stat == "Z") break;  // exited, not reaped yet
    std::this_thread::sleep_for(50ms);
  }
  auto off_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LT(off_ms, 15000) << "the VM was still up " << off_ms << " ms after DestroySandbox";
  for (auto& c : cs) (void)c->unshare();  // the VM is gone: only the host shares are left
  cs.clear();
  ASSERT_TRUE(sb_->stop());
  // TearDownTestSuite checks processes, mounts and files under the root.
}

}  // namespace
}  // namespace hull::sandbox::testing
