// startContainer hooks run by the container's init (agent/engine/start_hooks.h):
// the pure parts, and busybox containers as root showing where a hook runs
// (the container's mount, uts and pid namespaces, its rootfs, its seccomp
// filter) and that a failing hook fails start before the user's process runs.
#include "agent/engine/start_hooks.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/agent/engine/container_fixture.h"

namespace hull::engine {
namespace {

oci::Hook sh_hook(const std::string& script) {
  oci::Hook h;
  h.path = "/bin/sh";
  h.args = std::vector<std::string>{"sh", "-c", script};
  return h;
}

TEST(StartHooks, EnvDefaultsToTheProcessEnvironment) {
  oci::Spec s;
  s.hooks = oci::Hooks{};
  oci::Hook own = sh_hook("true");
  own.env = std::vector<std::string>{"MINE=1"};
  own.timeout = 7;
  s.hooks->start_container = std::vector<oci::Hook>{sh_hook("true"), own};
  s.hooks->prestart = std::vector<oci::Hook>{sh_hook("false")};
  auto list = start_hooks(s, {"PATH=/bin", "HOME=/root"});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].path, "/bin/sh");
  EXPECT_EQ(list[0].env, (std::vector<std::string>{"PATH=/bin", "HOME=/root"}));
  EXPECT_FALSE(list[0].timeout);
  EXPECT_EQ(list[1].env, (std::vector<std::string>{"MINE=1"}));
  EXPECT_EQ(list[1].timeout, std::chrono::seconds(7));
  EXPECT_FALSE(hooks::total_timeout(list));
  EXPECT_TRUE(start_hooks(oci::Spec{}, {}).empty());
}

TEST(StartHooks, StateIsCreatedWithTheCallersBundle) {
  oci::Spec s;
  s.annotations = oci::StringMap{{"a", "b"}};
  auto j = nlohmann::json::parse(start_hook_state(s, "c1", "/host/bundle", 1));
  EXPECT_EQ(j["id"], "c1");
  EXPECT_EQ(j["status"], "created");
  EXPECT_EQ(j["pid"], 1);
  EXPECT_EQ(j["bundle"], "/host/bundle");
  EXPECT_EQ(j["annotations"]["a"], "b");
  EXPECT_TRUE(j["ociVersion"].is_string());
}

// create + start; the start's result and what the container printed.
struct Started {
  Status start;
  std::string out;
};

class StartHooksTest : public ContainerTest {
 protected:
  static Started create_and_start(const oci::Spec& s,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    OutPipe pipe;
    CreateOptions o = options(s, pipe.stdio());
    o.timeout = timeout;
    o.state_bundle = "/the/host/bundle";
    auto c = Container::create(o);
    EXPECT_TRUE(c) << (c ? "" : c.error().what());
    if (!c) return {};
    test::ContainerGuard g(std::move(*c));
    pipe.wr.reset();
    Started r{g->start(), {}};
    if (r.start) r.out = test::read_all(pipe.rd.get());
    (void)g->wait();
    return r;
  }
};

TEST_F(StartHooksTest, RunsInsideTheContainerBeforeTheProcess) {
  // /tmp is the container's own tmpfs and the hostname its uts namespace's:
  // the hook can only have seen them from inside.
  oci::Spec s = spec("cat /tmp/hooked");
  s.process->env->push_back("FROM_PROCESS=yes");
  s.hooks = oci::Hooks{};
  s.hooks->start_container = std::vector<oci::Hook>{
      sh_hook("cat > /tmp/state; echo \"host=$(hostname) env=$FROM_PROCESS pid=$$\" > /tmp/hooked; "
              "cat /tmp/state >> /tmp/hooked")};
  auto r = create_and_start(s);
  ASSERT_TRUE(r.start) << r.start.error().what();
  EXPECT_NE(r.out.find("host=hull-test env=yes pid="), std::string::npos) << r.out;
  auto brace = r.out.find('{');
  ASSERT_NE(brace, std::string::npos) << r.out;
  auto state = nlohmann::json::parse(r.out.substr(brace), nullptr, false);
  ASSERT_TRUE(state.is_object()) << r.out;
  EXPECT_EQ(state["status"], "created");
  EXPECT_EQ(state["pid"], 1);  // the init, in the container's pid namespace
  EXPECT_EQ(state["bundle"], "/the/host/bundle");
  EXPECT_EQ(state["id"], test_id());
}

TEST_F(StartHooksTest, AHookTheSeccompFilterKillsFailsStart) {
  for (bool nnp : {true, false}) {
    oci::Spec s = spec("echo the-process-ran");
    s.process->no_new_privileges = nnp;
    oci::Seccomp p;
    p.default_action = "SCMP_ACT_ALLOW";
    oci::Syscall sc;
    sc.names = {"mkdir", "mkdirat"};
    sc.action = "SCMP_ACT_KILL";
    p.syscalls = std::vector<oci::Syscall>{sc};
    s.linux->seccomp = p;
    oci::Hook h;
    h.path = "/bin/mkdir";
    h.args = std::vector<std::string>{"mkdir", "/tmp/forbidden"};
    s.hooks = oci::Hooks{};
    s.hooks->start_container = std::vector<oci::Hook>{h};
    auto r = create_and_start(s);
    ASSERT_FALSE(r.start) << "noNewPrivileges " << nnp;
    EXPECT_NE(r.start.error().what().find(
                  "startContainer hook #0 (/bin/mkdir): killed by signal 31 (Bad system call)"),
              std::string::npos)
        << r.start.error().what();
    EXPECT_EQ(r.out.find("the-process-ran"), std::string::npos);
  }
}

TEST_F(StartHooksTest, AFailingHookStopsTheListAndTheProcess) {
  oci::Spec s = spec("echo the-process-ran");
  s.hooks = oci::Hooks{};
  s.hooks->start_container = std::vector<oci::Hook>{sh_hook("echo first >> /tmp/ran"),
                                                    sh_hook("echo hook-said-no >&2; exit 3"),
                                                    sh_hook("echo third >> /tmp/ran")};
  auto r = create_and_start(s);
  ASSERT_FALSE(r.start);
  EXPECT_NE(r.start.error().what().find(
                "startContainer hook #1 (/bin/sh): exited with status 3: hook-said-no"),
            std::string::npos)
      << r.start.error().what();
}

TEST_F(StartHooksTest, PathIsResolvedInTheContainersRootfs) {
  // A path only the host has: the hook is not found.
  oci::Spec s = spec("true");
  oci::Hook h;
  h.path = "/usr/bin/gtest-no-such-hook-in-busybox";
  s.hooks = oci::Hooks{};
  s.hooks->start_container = std::vector<oci::Hook>{h};
  auto r = create_and_start(s);
  ASSERT_FALSE(r.start);
  EXPECT_NE(r.start.error().what().find("startContainer hook #0 "
                                        "(/usr/bin/gtest-no-such-hook-in-busybox): cannot execute"),
            std::string::npos)
      << r.start.error().what();
}

TEST_F(StartHooksTest, StartWaitsForTheHooksTimeouts) {
  // The hook takes longer than the engine's per-step timeout; start waits for
  // the step plus the hook's own timeout.
  oci::Spec s = spec("echo after-the-hook");
  oci::Hook h = sh_hook("sleep 4");
  h.timeout = 20;
  s.hooks = oci::Hooks{};
  s.hooks->start_container = std::vector<oci::Hook>{h};
  auto r = create_and_start(s, std::chrono::seconds(2));
  ASSERT_TRUE(r.start) << r.start.error().what();
  EXPECT_EQ(r.out, "after-the-hook\n");
}

}  // namespace
}  // namespace hull::engine
