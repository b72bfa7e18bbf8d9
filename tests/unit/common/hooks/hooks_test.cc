// Unit tests of the OCI hooks runner: real hooks (/bin/sh scripts) on the host.
#include "common/hooks/hooks.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/hooks/limits.h"

namespace hull::hooks {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool pid_alive(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

// Waits a little for a process that is not our child to disappear (its parent reaps it).
bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (!pid_alive(pid)) return true;
    ::usleep(10'000);
  }
  return !pid_alive(pid);
}

pid_t read_pid(const fs::path& p) {
  std::string s = slurp(p);
  return s.empty() ? -1 : static_cast<pid_t>(std::stol(s));
}

class HooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-hooks-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A hook running `/bin/sh -c script`.
  static Hook sh(const std::string& script) {
    return Hook{"/bin/sh", {{"sh", "-c", script}}, {}, {}};
  }

  fs::path dir_;
};

oci::State sample_state() {
  oci::State s;
  s.oci_version = "1.0.2";
  s.id = "ctr-1";
  s.status = oci::ContainerStatus::Creating;
  s.pid = 4242;
  s.bundle = "/run/bundle";
  s.annotations = {{"org.example.key", "value"}};
  s.rootfs = "/run/bundle/rootfs";  // runc-state only; never sent to hooks
  s.hull = {{"sandbox", "/run/hull/sandboxes/x"}};
  return s;
}

TEST(HookState, HasTheSpecFieldsOnly) {
  auto j = nlohmann::json::parse(state_json(sample_state()));
  EXPECT_EQ(j["ociVersion"], "1.0.2");
  EXPECT_EQ(j["id"], "ctr-1");
  EXPECT_EQ(j["status"], "creating");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["bundle"], "/run/bundle");
  EXPECT_EQ(j["annotations"]["org.example.key"], "value");
  EXPECT_EQ(j.size(), 6u) << j.dump();
}

TEST(HookState, OmitsPidZeroAndEmptyAnnotationsLikeRunc) {
  oci::State s = sample_state();
  s.pid = 0;
  s.status = oci::ContainerStatus::Stopped;
  s.annotations.clear();
  auto j = nlohmann::json::parse(state_json(s));
  EXPECT_FALSE(j.contains("pid"));
  EXPECT_FALSE(j.contains("annotations"));
  EXPECT_EQ(j["status"], "stopped");
}

TEST(HookKinds, NamesRulesAndStatuses) {
  EXPECT_EQ(kind_name(Kind::Prestart), "prestart");
  EXPECT_EQ(kind_name(Kind::CreateRuntime), "createRuntime");
  EXPECT_EQ(kind_name(Kind::CreateContainer), "createContainer");
  EXPECT_EQ(kind_name(Kind::StartContainer), "startContainer");
  EXPECT_EQ(kind_name(Kind::Poststart), "poststart");
  EXPECT_EQ(kind_name(Kind::Poststop), "poststop");
  for (Kind k : {Kind::Prestart, Kind::CreateRuntime, Kind::CreateContainer, Kind::StartContainer})
    EXPECT_EQ(failure_rule(k), OnFailure::Abort) << kind_name(k);
  for (Kind k : {Kind::Poststart, Kind::Poststop})
    EXPECT_EQ(failure_rule(k), OnFailure::Warn) << kind_name(k);
  EXPECT_EQ(status_during(Kind::CreateRuntime), oci::ContainerStatus::Creating);
  EXPECT_EQ(status_during(Kind::StartContainer), oci::ContainerStatus::Created);
  EXPECT_EQ(status_during(Kind::Poststart), oci::ContainerStatus::Running);
  EXPECT_EQ(status_during(Kind::Poststop), oci::ContainerStatus::Stopped);
}

TEST(HookKinds, FromSpecKeepsArgsEnvAndTimeout) {
  oci::Hooks spec;
  spec.poststop = std::vector<oci::Hook>{
      {"/bin/true", std::vector<std::string>{"true", "x"}, std::vector<std::string>{"A=1"}, 7},
      {"/bin/false", std::nullopt, std::nullopt, std::nullopt}};
  auto hooks = from_spec(spec, Kind::Poststop);
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[0].path, "/bin/true");
  EXPECT_EQ(*hooks[0].args, (std::vector<std::string>{"true", "x"}));
  EXPECT_EQ(*hooks[0].env, (std::vector<std::string>{"A=1"}));
  EXPECT_EQ(*hooks[0].timeout, 7s);
  EXPECT_FALSE(hooks[1].args.has_value());
  EXPECT_FALSE(hooks[1].timeout.has_value());
  EXPECT_TRUE(from_spec(spec, Kind::Prestart).empty());
}

TEST_F(HooksTest, StateArrivesOnStdin) {
  std::string state = state_json(sample_state());
  auto r = run_one(sh("cat > " + (dir_ / "state").string()), state);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(slurp(dir_ / "state"), state);
}

TEST_F(HooksTest, WorkingDirectoryIsTheGivenDirectory) {
  fs::create_directory(dir_ / "rootfs");
  int fd = ::open((dir_ / "rootfs").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<Error> warnings;
  auto r = run_hooks(Kind::CreateContainer, std::vector<Hook>{sh("pwd > ../pwd; touch ./here")},
                     "{}", warnings, fd);
  ::close(fd);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(slurp(dir_ / "pwd"), (dir_ / "rootfs").string() + "\n");
  EXPECT_TRUE(fs::exists(dir_ / "rootfs" / "here"));
  // Without one: the caller's.
  auto here = run_one(sh("pwd > " + (dir_ / "pwd2").string()), "{}");
  ASSERT_TRUE(here) << here.error().what();
  EXPECT_EQ(slurp(dir_ / "pwd2"), fs::current_path().string() + "\n");
}

TEST(HookTimeouts, TotalIsTheSumOrUnboundedWhenOneHasNone) {
  Hook a{"/a", {}, {}, std::chrono::seconds(3)};
  Hook b{"/b", {}, {}, std::chrono::seconds(4)};
  Hook c{"/c", {}, {}, std::nullopt};
  EXPECT_EQ(total_timeout(std::vector<Hook>{}), std::chrono::seconds(0));
  EXPECT_EQ(total_timeout(std::vector<Hook>{a, b}), std::chrono::seconds(7));
  EXPECT_FALSE(total_timeout(std::vector<Hook>{a, c}));
}

TEST_F(HooksTest, StateArrivesWhenTheCallerHasNoStdio) {
  // A caller started with fds 0-2 closed: the runner's own descriptors take
  // those numbers and must still end up as the hook's stdin and stderr.
  int saved[3];
  for (int fd = 0; fd < 3; ++fd) saved[fd] = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  for (int fd = 0; fd < 3; ++fd) ::close(fd);
  auto r = run_one(sh("cat > " + (dir_ / "state").string() + "; echo err-line >&2; exit 4"),
                   "{\"id\":\"x\"}");
  for (int fd = 0; fd < 3; ++fd) {
    ::dup2(saved[fd], fd);
    ::close(saved[fd]);
  }
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(slurp(dir_ / "state"), "{\"id\":\"x\"}");
  EXPECT_EQ(r->stderr_tail, "err-line\n");
}

TEST_F(HooksTest, LargeStateIsNotNeededToBeRead) {
  oci::State s = sample_state();
  s.annotations["big"] = std::string(1 << 20, 'a');  // far more than a pipe buffer
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_one(sh("exit 0"), state_json(s));
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST_F(HooksTest, ArgsIncludingArgv0AreHonoured) {
  fs::path out = dir_ / "cmdline";
  Hook h{"/bin/sh",
         {{"my-hook-name", "-c", "tr '\\0' ' ' < /proc/$$/cmdline > " + out.string(), "a1"}},
         {},
         {}};
  auto r = run_one(h, "{}");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(slurp(out),
            "my-hook-name -c tr '\\0' ' ' < /proc/$$/cmdline > " + out.string() + " a1 ");
}

TEST_F(HooksTest, NoArgsMeansArgv0IsThePath) {
  fs::path script = dir_ / "hook.sh";
  {
    std::ofstream f(script);
    f << "#!/bin/sh\necho \"$0\" > " << (dir_ / "argv0").string() << "\n";
  }
  fs::permissions(script, fs::perms::owner_all);
  auto r = run_one(Hook{script.string(), {}, {}, {}}, "{}");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(slurp(dir_ / "argv0"), script.string() + "\n");
}

TEST_F(HooksTest, EnvIsExactlyTheHooksEnv) {
  ::setenv("HULL_HOOKS_TEST_PARENT", "parent", 1);
  fs::path out = dir_ / "env";
  Hook h = sh("env > " + out.string());
  h.env = std::vector<std::string>{"FOO=bar", "PATH=/usr/bin:/bin"};
  auto r = run_one(h, "{}");
  ASSERT_TRUE(r) << r.error().what();
  std::string env = slurp(out);
  EXPECT_NE(env.find("FOO=bar\n"), std::string::npos) << env;
  EXPECT_EQ(env.find("HULL_HOOKS_TEST_PARENT"), std::string::npos) << env;

  // No env in the spec: the hook inherits the runtime's environment, as with runc.
  h.env.reset();
  r = run_one(h, "{}");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_NE(slurp(out).find("HULL_HOOKS_TEST_PARENT=parent"), std::string::npos);
  ::unsetenv("HULL_HOOKS_TEST_PARENT");
}

TEST_F(HooksTest, NonZeroExitNamesKindIndexPathStatusAndStderr) {
  std::vector<Hook> hooks = {sh("exit 0"), sh("echo first line >&2; echo it broke >&2; exit 2")};
  std::vector<Error> warnings;
  auto r = run_hooks(Kind::Prestart, hooks, "{}", warnings);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Invalid);
  EXPECT_EQ(r.error().what(),
            "prestart hook #1 (/bin/sh): exited with status 2: first line; it broke");
  EXPECT_TRUE(warnings.empty());
}

TEST_F(HooksTest, KilledBySignalIsAFailure) {
  std::vector<Error> warnings;
  auto r = run_hooks(Kind::CreateRuntime, std::vector<Hook>{sh("kill -9 $$")}, "{}", warnings);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "createRuntime hook #0 (/bin/sh): killed by signal 9 (Killed)");
}

TEST_F(HooksTest, StderrTailIsBoundedAndKeepsTheEnd) {
  auto r = run_one(sh("i=0; while [ $i -lt 20000 ]; do echo line $i >&2; i=$((i+1)); done; "
                      "echo the end >&2; exit 3"),
                   "{}");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_LE(r->stderr_tail.size(), kMaxCapture);
  EXPECT_TRUE(r->stderr_tail.ends_with("the end\n"));

  std::vector<Error> warnings;
  auto s = run_hooks(Kind::StartContainer,
                     std::vector<Hook>{sh("head -c 100000 /dev/zero | tr '\\0' x >&2; "
                                          "echo >&2; echo last words >&2; exit 1")},
                     "{}", warnings);
  ASSERT_FALSE(s);
  std::string msg = s.error().what();
  EXPECT_TRUE(msg.starts_with("startContainer hook #0 (/bin/sh): exited with status 1: ..."))
      << msg;
  EXPECT_TRUE(msg.ends_with("; last words")) << msg;
  EXPECT_LT(msg.size(), kMessageTail + 100);
}

TEST_F(HooksTest, StdoutIsCapturedSeparately) {
  auto r = run_one(sh("echo to-stdout; echo to-stderr >&2"), "{}");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->stdout_tail, "to-stdout\n");
  EXPECT_EQ(r->stderr_tail, "to-stderr\n");
}

TEST_F(HooksTest, TimeoutKillsTheHookAndItsProcessGroup) {
  fs::path pid_file = dir_ / "pid", child_file = dir_ / "child";
  Hook h = sh("sleep 100 & echo $! > " + child_file.string() + "; echo $$ > " + pid_file.string() +
              "; exec sleep 100");
  h.timeout = 1s;
  std::vector<Error> warnings;
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_hooks(Kind::Prestart, std::vector<Hook>{h}, "{}", warnings);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Timeout);
  EXPECT_EQ(r.error().what(), "prestart hook #0 (/bin/sh): timed out after 1 s");
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  pid_t hook_pid = read_pid(pid_file);
  pid_t child_pid = read_pid(child_file);
  ASSERT_GT(hook_pid, 0);
  ASSERT_GT(child_pid, 0);
  EXPECT_FALSE(pid_alive(hook_pid)) << "the hook (reaped by us) is still there";
  // The background child was reparented when the hook died; its new parent reaps it.
  EXPECT_TRUE(gone_within(child_pid, 5s)) << "the hook's child " << child_pid << " survived";
}

TEST_F(HooksTest, MissingBinaryIsNotFound) {
  std::vector<Error> warnings;
  auto r = run_hooks(Kind::CreateContainer,
                     std::vector<Hook>{Hook{"/nonexistent/hook", {}, {}, {}}}, "{}", warnings);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_EQ(r.error().what(),
            "createContainer hook #0 (/nonexistent/hook): cannot execute: No such file or "
            "directory");
}

TEST_F(HooksTest, NotExecutableIsASystemError) {
  fs::path f = dir_ / "plain";
  std::ofstream(f) << "not a program\n";
  fs::permissions(f, fs::perms::owner_read | fs::perms::owner_write);
  auto r = run_one(Hook{f.string(), {}, {}, {}}, "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::System);
  EXPECT_EQ(r.error().sys_errno, EACCES);
}

TEST_F(HooksTest, AbortKindsStopAtTheFirstFailure) {
  fs::path a = dir_ / "a", c = dir_ / "c";
  std::vector<Hook> hooks = {sh("touch " + a.string()), sh("exit 1"), sh("touch " + c.string())};
  std::vector<Error> warnings;
  auto r = run_hooks(Kind::CreateRuntime, hooks, "{}", warnings);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().what().starts_with("createRuntime hook #1 (/bin/sh): exited with status 1"))
      << r.error().what();
  EXPECT_TRUE(fs::exists(a));
  EXPECT_FALSE(fs::exists(c)) << "a hook after the failed one ran";
}

TEST_F(HooksTest, WarnKindsRunEveryHookAndReportWarnings) {
  fs::path c = dir_ / "c";
  std::vector<Hook> hooks = {sh("echo nope >&2; exit 4"), Hook{"/nonexistent", {}, {}, {}},
                             sh("touch " + c.string())};
  std::vector<Error> warnings;
  auto r = run_hooks(Kind::Poststop, hooks, "{}", warnings);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_TRUE(fs::exists(c));
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0].what(), "poststop hook #0 (/bin/sh): exited with status 4: nope");
  EXPECT_TRUE(warnings[1].what().starts_with("poststop hook #1 (/nonexistent): cannot execute"));
}

TEST_F(HooksTest, HookLeavingAChildDoesNotHoldUsUp) {
  fs::path child_file = dir_ / "child";
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_one(sh("sleep 30 >&2 & echo $! > " + child_file.string() + "; exit 0"), "{}");
  auto took = std::chrono::steady_clock::now() - t0;
  pid_t child = read_pid(child_file);
  if (child > 0) ::kill(child, SIGKILL);  // not ours to reap; init does
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_LT(took, 5s);
}

TEST_F(HooksTest, NoDescriptorsLeakIntoTheHook) {
  // `ls` lists its own descriptors: 0, 1, 2 and the one it opened for the directory.
  auto r = run_one(Hook{"/bin/ls", {{"ls", "/proc/self/fd"}}, {}, {}}, "{}");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->stdout_tail, "0\n1\n2\n3\n");
}

}  // namespace
}  // namespace hull::hooks
