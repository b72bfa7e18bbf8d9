#include "common/child_process.h"

#include "common/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <sys/wait.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace hull {
namespace {

using namespace std::chrono_literals;

std::string temp_file() {
  char tmpl[] = "/tmp/hull-child-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ::close(fd);
  return tmpl;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The options of a child whose stdout and stderr go to `out` (/dev/null when
// empty); the log stays open as long as the options live.
struct Opts {
  SpawnOptions o;
  UniqueFd log;
  operator const SpawnOptions&() const { return o; }
};

Opts opts(std::vector<std::string> argv, std::string out = "", std::vector<FdMap> fds = {},
          bool new_pid_ns = false) {
  Opts r;
  r.o.argv = std::move(argv);
  if (!out.empty()) {
    auto log = open_output_log(out);
    EXPECT_TRUE(log) << log.error().what();
    r.log = std::move(*log);
    fds.push_back({r.log.get(), 1});
    fds.push_back({r.log.get(), 2});
  }
  r.o.fds = std::move(fds);
  r.o.new_pid_namespace = new_pid_ns;
  return r;
}

TEST(ChildProcess, ExitStatusAndOutput) {
  std::string out = temp_file();
  auto c = spawn("sh", opts({"/bin/sh", "-c", "echo hi; echo err >&2; exit 3"}, out));
  ASSERT_TRUE(c) << c.error().what();
  auto st = c->wait_for(5s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 3);
  EXPECT_FALSE(st->signaled);
  EXPECT_EQ(slurp(out), "hi\nerr\n");
  std::filesystem::remove(out);
}

TEST(ChildProcess, MissingBinaryIsNotFound) {
  auto c = spawn("nope", opts({"/no/such/binary"}));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::NotFound);
  EXPECT_FALSE(spawn("rel", opts({"sh"})));
}

TEST(ChildProcess, DestructorKillsAndReaps) {
  pid_t pid;
  {
    auto c = spawn("sleep", opts({"/bin/sleep", "100"}));
    ASSERT_TRUE(c);
    pid = c->pid();
    EXPECT_FALSE(c->poll_exit());
  }
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the pid is gone
}

TEST(ChildProcess, SignalAndWait) {
  auto c = spawn("sleep", opts({"/bin/sleep", "100"}));
  ASSERT_TRUE(c);
  auto t = c->wait_for(50ms);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::Timeout);
  EXPECT_TRUE(c->signal(SIGTERM));
  auto st = c->wait_for(5s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->signaled);
  EXPECT_EQ(st->signal, SIGTERM);
  EXPECT_EQ(st->describe().rfind("killed by signal 15", 0), 0u);
  EXPECT_TRUE(c->signal(SIGKILL));  // already ended: not an error
}

TEST(ChildProcess, InheritsOnlyTheListedFds) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  int leaky = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC: must not reach the child anyway
  std::string out = temp_file();
  auto c = spawn("ls", opts({"/bin/ls", "/proc/self/fd"}, out, {{p[1], 5}}));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->wait_for(5s));
  // 0-2, 5, and 3: the directory ls itself opens.
  EXPECT_EQ(slurp(out), "0\n1\n2\n3\n5\n");
  ::close(leaky);

  auto w = spawn("sh", opts({"/bin/sh", "-c", "echo via5 >&5"}, "", {{p[1], 5}}));
  ::close(p[1]);
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->wait_for(5s));
  char buf[16] = {};
  EXPECT_EQ(::read(p[0], buf, sizeof buf), 5);
  EXPECT_STREQ(buf, "via5\n");
  ::close(p[0]);
  std::filesystem::remove(out);
}

TEST(ChildProcess, NewPidNamespaceKillsGrandchildren) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CLONE_NEWPID)";
  // A sleep length no other process on the machine uses.
  const std::string marker = "1000." + std::to_string(::getpid());
  auto sleeping = [&] {
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      if (slurp(e.path().string() + "/cmdline") == "sleep" + std::string(1, '\0') + marker + '\0') {
        return true;
      }
    }
    return false;
  };
  std::string out = temp_file();
  auto c =
      spawn("sh", opts({"/bin/sh", "-c", "echo $$; sleep " + marker + " & wait"}, out, {}, true));
  ASSERT_TRUE(c) << c.error().what();
  for (int i = 0; i < 200 && !sleeping(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(sleeping()) << slurp(out);
  EXPECT_EQ(slurp(out).substr(0, 2), "1\n");  // PID 1 of its namespace
  c->kill_and_reap();
  EXPECT_FALSE(sleeping());  // the grandchild died with its namespace
  std::filesystem::remove(out);
}

TEST(ChildProcess, DetachLeavesItRunning) {
  pid_t pid;
  {
    auto c = spawn("sleep", opts({"/bin/sleep", "100"}));
    ASSERT_TRUE(c);
    pid = c->detach();
  }
  EXPECT_EQ(::kill(pid, 0), 0);
  ::kill(pid, SIGKILL);
  int status;
  ::waitpid(pid, &status, 0);
}

}  // namespace
}  // namespace hull
