#include "common/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "tests/unit/common/test_pipe.h"

namespace hull {
namespace {

using namespace std::chrono_literals;

// Runs `script` under /bin/sh with its stdout in a pipe; returns the output.
std::string run_sh(const std::string& script, SpawnOptions o = {}) {
  TestPipe out = TestPipe::make();
  o.argv = {"sh", "-c", script};
  o.path = "/bin/sh";
  o.fds.push_back({out.wr.get(), 1});
  auto c = spawn("sh", o);
  EXPECT_TRUE(c) << c.error().what();
  if (!c) return "";
  out.wr.reset();
  std::string text = out.drain();
  auto st = c->wait_for(10s);
  EXPECT_TRUE(st && st->code == 0) << (st ? st->describe() : st.error().what());
  return text;
}

// The hex mask of one "Sig...:" line of /proc/self/status text.
uint64_t status_mask(const std::string& status, const std::string& key) {
  auto at = status.find(key + ":\t");
  if (at == std::string::npos) return ~0ull;
  return std::stoull(status.substr(at + key.size() + 2, 16), nullptr, 16);
}

uint64_t bit(int sig) {
  return 1ull << (sig - 1);
}

TEST(Spawn, MapsFdsEvenWhenTheyCross) {
  // Parent fds a and b go to child fds that are each other's numbers: a
  // naive dup2 in order would overwrite one before copying it.
  TestPipe a = TestPipe::make(), b = TestPipe::make();
  int na = a.wr.get(), nb = b.wr.get();
  SpawnOptions o;
  o.path = "/bin/sh";
  o.argv = {"sh", "-c",
            "echo to-a >&" + std::to_string(nb) + "; echo to-b >&" + std::to_string(na)};
  o.fds = {{na, nb}, {nb, na}};
  auto c = spawn("sh", o);
  ASSERT_TRUE(c) << c.error().what();
  a.wr.reset();
  b.wr.reset();
  EXPECT_EQ(a.drain(), "to-a\n");
  EXPECT_EQ(b.drain(), "to-b\n");
  ASSERT_TRUE(c->wait_for(10s));
}

TEST(Spawn, UnmappedStdioIsDevNullAndNothingElseLeaks) {
  UniqueFd leaky(::open("/dev/null", O_RDONLY));  // no O_CLOEXEC
  ASSERT_TRUE(leaky);
  std::string fds = run_sh("ls -l /proc/$$/fd | sed -n 's/.* \\([0-9]*\\) -> \\(.*\\)/\\1 \\2/p'");
  EXPECT_NE(fds.find("0 /dev/null"), std::string::npos) << fds;
  EXPECT_NE(fds.find("2 /dev/null"), std::string::npos) << fds;
  EXPECT_EQ(fds.find(std::to_string(leaky.get()) + " /dev/null"), std::string::npos) << fds;
}

TEST(Spawn, TheChildStartsWithDefaultSignalsAndAnEmptyMask) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  struct sigaction ign {
  }, prev_hup{}, prev_usr2{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGHUP, &ign, &prev_hup);
  struct sigaction handler {};
  handler.sa_handler = [](int) {};
  ::sigaction(SIGUSR2, &handler, &prev_usr2);

  // The shell's own status (a command it forks may get a mask of its making).
  const std::string own_status = "while read -r l; do echo \"$l\"; done < /proc/$$/status";
  std::string fresh = run_sh(own_status);
  SpawnOptions keep;
  keep.default_signals = false;
  std::string kept = run_sh(own_status, keep);

  ::sigaction(SIGUSR2, &prev_usr2, nullptr);
  ::sigaction(SIGHUP, &prev_hup, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);

  EXPECT_EQ(status_mask(fresh, "SigBlk"), 0u) << fresh;
  EXPECT_EQ(status_mask(fresh, "SigIgn") & bit(SIGHUP), 0u) << fresh;
  EXPECT_EQ(status_mask(kept, "SigBlk") & (bit(SIGTERM) | bit(SIGUSR1)),
            bit(SIGTERM) | bit(SIGUSR1))
      << kept;
  EXPECT_EQ(status_mask(kept, "SigIgn") & bit(SIGHUP), bit(SIGHUP)) << kept;
  // A handler cannot survive exec; it is not turned into "ignored" either.
  EXPECT_EQ(status_mask(kept, "SigIgn") & bit(SIGUSR2), 0u) << kept;
}

TEST(Spawn, SessionAndGroup) {
  pid_t sid = ::getsid(0), pgid = ::getpgid(0);
  auto ids = [](ProcessGroup g) {
    SpawnOptions o;
    o.group = g;
    // Fields 5 and 6 of /proc/self/stat (sh's own: `cut` would be another process).
    return run_sh("read -r s < /proc/$$/stat; set -- ${s#*) }; echo $3 $4", o);
  };
  std::string session = ids(ProcessGroup::NewSession);
  std::string group = ids(ProcessGroup::NewGroup);
  std::string inherit = ids(ProcessGroup::Inherit);
  // A new session: the child leads its group and session (both its pid).
  auto words = [](const std::string& s) {
    auto sp = s.find(' ');
    return std::pair{std::stol(s.substr(0, sp)), std::stol(s.substr(sp + 1))};
  };
  auto [s_pgid, s_sid] = words(session);
  EXPECT_EQ(s_pgid, s_sid);
  EXPECT_NE(s_sid, sid);
  auto [g_pgid, g_sid] = words(group);
  EXPECT_NE(g_pgid, pgid);
  EXPECT_EQ(g_sid, sid);
  auto [i_pgid, i_sid] = words(inherit);
  EXPECT_EQ(i_pgid, pgid);
  EXPECT_EQ(i_sid, sid);
}

TEST(Spawn, EnvironmentAndWorkingDirectory) {
  UniqueFd dir(::open("/usr", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir);
  SpawnOptions o;
  o.env = std::vector<std::string>{"ONLY=this", "PATH=/usr/bin:/bin"};
  o.cwd_fd = dir.get();
  EXPECT_EQ(run_sh("echo \"$ONLY\" \"$(pwd)\"; env | grep -c HOME || true", o), "this /usr\n0\n");
  ::setenv("HULL_SPAWN_TEST", "inherited", 1);
  EXPECT_EQ(run_sh("echo $HULL_SPAWN_TEST"), "inherited\n");
  ::unsetenv("HULL_SPAWN_TEST");
}

TEST(Spawn, ExecFailureNamesTheProgramAndErrno) {
  SpawnOptions o;
  o.argv = {"/no/such/program"};
  auto missing = spawn("helper", o);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  EXPECT_EQ(missing.error().sys_errno, ENOENT);
  EXPECT_EQ(missing.error().what(),
            "helper: executing /no/such/program: No such file or directory");

  std::string plain = std::filesystem::temp_directory_path() / "hull-spawn-not-a-program";
  UniqueFd f(::open(plain.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(f);
  o.argv = {plain};
  auto denied = spawn("helper", o);
  ::unlink(plain.c_str());
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Errc::System);
  EXPECT_EQ(denied.error().sys_errno, EACCES);
  EXPECT_NE(denied.error().what().find("executing " + plain), std::string::npos);
}

TEST(Spawn, ExecFailureIsReportedWhateverTheFdMapCloses) {
  // Child fd numbers above the lowest free ones: the child closes every
  // unmapped number up to the highest target, which must not take the
  // report pipe along.
  TestPipe p = TestPipe::make();
  SpawnOptions o;
  o.argv = {"/no/such/program"};
  o.fds = {{p.wr.get(), 60}};
  auto c = spawn("helper", o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::NotFound);
}

TEST(Spawn, AChildStepThatFailsIsNamed) {
  SpawnOptions o;
  o.argv = {"/bin/true"};
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  o.cwd_fd = file.get();  // not a directory
  auto c = spawn("helper", o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().sys_errno, ENOTDIR);
  EXPECT_EQ(c.error().msg, "helper: entering the working directory of /bin/true");
}

// A pre_exec hook: changes the child's directory to the one `arg` names.
int enter_dir(const void* arg, const char** step) noexcept {
  if (::chdir(static_cast<const char*>(arg)) != 0) {
    *step = "entering the test directory";
    return -1;
  }
  return 0;
}

TEST(Spawn, PreExecRunsInTheChildLast) {
  char before[4096];
  ASSERT_TRUE(::getcwd(before, sizeof before));
  SpawnOptions o;
  o.pre_exec = enter_dir;
  o.pre_exec_arg = "/usr";
  UniqueFd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  o.cwd_fd = root.get();  // overridden by the hook, which runs after it
  EXPECT_EQ(run_sh("pwd", o), "/usr\n");
  char after[4096];
  ASSERT_TRUE(::getcwd(after, sizeof after));
  EXPECT_STREQ(before, after);  // the caller's own directory is untouched
}

TEST(Spawn, AFailedPreExecIsNamedAndNothingRuns) {
  SpawnOptions o;
  o.argv = {"/bin/true"};
  o.pre_exec = enter_dir;
  o.pre_exec_arg = "/no/such/dir";
  auto c = spawn("helper", o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::System);
  EXPECT_EQ(c.error().sys_errno, ENOENT);
  EXPECT_EQ(c.error().msg, "helper: entering the test directory before executing /bin/true");
}

TEST(Spawn, RefusesOptionsThatCannotWork) {
  SpawnOptions rel;
  rel.argv = {"true"};
  EXPECT_EQ(spawn("x", rel).error().code, Errc::Invalid);
  SpawnOptions twice;
  twice.argv = {"/bin/true"};
  twice.fds = {{1, 5}, {2, 5}};
  EXPECT_EQ(spawn("x", twice).error().code, Errc::Invalid);
  SpawnOptions none;
  none.path = "/bin/true";
  EXPECT_EQ(spawn("x", none).error().code, Errc::Invalid);
}

TEST(Spawn, ArgvZeroApartFromThePath) {
  TestPipe out = TestPipe::make();
  SpawnOptions o;
  o.path = "/bin/sh";
  o.argv = {"a-name-of-its-own", "-c", "echo $0"};
  o.fds = {{out.wr.get(), 1}};
  auto c = spawn("sh", o);
  ASSERT_TRUE(c) << c.error().what();
  out.wr.reset();
  EXPECT_EQ(out.drain(), "a-name-of-its-own\n");
  ASSERT_TRUE(c->wait_for(10s));
}

}  // namespace
}  // namespace hull
