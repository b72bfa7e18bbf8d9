#include "common/oci/state.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace hull::oci {
namespace {

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-state-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  State sample(const std::string& id) {
    State s;
    s.id = id;
    s.pid = 4242;
    s.status = ContainerStatus::Created;
    s.bundle = "/b";
    s.rootfs = "/b/rootfs";
    s.created = "2026-11-21T07:13:55.123456789Z";
    s.annotations = {{"a", "b"}};
    s.pid_start_time = 99;
    s.hull = {{"sandbox", "/run/hull/sandboxes/x"}};
    return s;
  }

  std::string dir_;
};

TEST(StateJson, RoundTripAndRuncOutputShape) {
  State s;
  s.id = "c1";
  s.pid = 7;
  s.status = ContainerStatus::Running;
  s.bundle = "/b";
  s.created = "2026-11-21T07:13:55.000000001Z";
  auto back = state_from_json(to_json(s).dump(), "state.json");
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(back->id, "c1");
  EXPECT_EQ(back->status, ContainerStatus::Running);
  auto out = state_output_json(s);
  for (const char* key :
       {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"}) {
    EXPECT_TRUE(out.contains(key)) << key;
  }
  EXPECT_FALSE(out.contains("hull"));
  EXPECT_FALSE(out.contains("annotations"));  // runc omits empty annotations
}

// Callers parse runc's output as text too: the keys come in runc's order.
TEST(StateJson, RuncKeyOrder) {
  State s;
  s.id = "c1";
  s.bundle = "/b";
  s.annotations = {{"a", "b"}};
  auto out = state_output_json(s);
  std::vector<std::string> keys;
  for (const auto& [k, v] : out.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"ociVersion", "id", "pid", "status", "bundle", "rootfs",
                                            "created", "annotations", "owner"}));
}

TEST(StateJson, BadFilesNameTheField) {
  auto r = state_from_json(
      R"({"ociVersion":"1","id":"x","bundle":"/b","created":"t","status":"zombie","pid":1})",
      "s.json");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("unknown container status \"zombie\""), std::string::npos);
  r = state_from_json(
      R"({"ociVersion":"1","id":"x","bundle":"/b","created":"t","status":"created","pid":-1})",
      "s.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "s.json: pid: must be an integer between 0 and 2147483647");
  r = state_from_json("{", "s.json");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("s.json: not valid JSON"), std::string::npos);
}

TEST_F(StateTest, CreateSaveLoadListRemove) {
  StateStore store(dir_ + "/root");
  auto lock = store.create("c1");
  ASSERT_TRUE(lock) << lock.error().what();
  ASSERT_TRUE(store.save(sample("c1")));
  auto loaded = store.load("c1");
  ASSERT_TRUE(loaded) << loaded.error().what();
  EXPECT_EQ(loaded->pid, 4242);
  EXPECT_EQ(loaded->pid_start_time, 99u);
  EXPECT_EQ(loaded->annotations.at("a"), "b");
  EXPECT_EQ(loaded->hull["sandbox"], "/run/hull/sandboxes/x");
  EXPECT_EQ(*store.list(), std::vector<std::string>{"c1"});
  ASSERT_TRUE(store.remove("c1"));
  EXPECT_TRUE(store.list()->empty());
  auto gone = store.load("c1");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::NotFound);
  EXPECT_EQ(gone.error().what(), "container does not exist: c1");
}

TEST_F(StateTest, DuplicateIdAndReservedName) {
  StateStore store(dir_);
  ASSERT_TRUE(store.create("dup"));
  auto again = store.create("dup");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::Exists);
  EXPECT_EQ(again.error().what(), "container with id exists: dup");
  auto reserved = store.create("sandboxes");
  ASSERT_FALSE(reserved);
  EXPECT_EQ(reserved.error().code, Errc::Invalid);
}

TEST_F(StateTest, InvalidIdNeverTouchesTheFilesystem) {
  StateStore store(dir_);
  EXPECT_FALSE(store.create("../escape"));
  EXPECT_FALSE(store.load("../../etc"));
  EXPECT_FALSE(store.remove(".."));
  EXPECT_EQ(access((dir_ + "/../escape").c_str(), F_OK), -1);
}

TEST_F(StateTest, LockIsExclusiveAcrossProcesses) {
  StateStore store(dir_);
  ASSERT_TRUE(store.create("locked"));  // creates the directory; the lock goes out of scope
  int go[2], done[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(done), 0);
  // Fork before taking the lock: a child must not inherit the lock's open file.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(1);
    auto l = store.lock("locked");  // blocks until the parent lets go
    c = l ? 'y' : 'n';
    (void)!write(done[1], &c, 1);
    _exit(0);
  }
  auto lock = store.lock("locked");
  ASSERT_TRUE(lock);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  usleep(200 * 1000);  // the child must still be blocked after a while
  pollfd p{done[0], POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0) << "second lock was granted while the first was held";
  *lock = StateLock();  // release
  char c = 0;
  ASSERT_EQ(read(done[0], &c, 1), 1);
  EXPECT_EQ(c, 'y');
  for (int fd : {go[0], go[1], done[0], done[1]}) close(fd);
  int status = 0;
  waitpid(child, &status, 0);
}

// A holder that never lets go (a `create` frozen with its cgroup) no longer
// hangs every later command: the wait is bounded and the error names the
// holder's pid and what to do.
TEST_F(StateTest, LockWaitIsBoundedAndNamesTheHolder) {
  StateStore store(dir_, std::chrono::milliseconds(300));
  auto held = store.create("stuck");
  ASSERT_TRUE(held);
  auto start = std::chrono::steady_clock::now();
  auto second = store.lock("stuck");  // another open file: flock conflicts in one process too
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::Timeout);
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_LT(waited, std::chrono::seconds(5));
  const std::string& msg = second.error().msg;
  EXPECT_NE(msg.find("container stuck is locked by pid " + std::to_string(getpid())),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("kill it and retry"), std::string::npos) << msg;
  *held = StateLock();
  EXPECT_TRUE(store.lock("stuck"));
}

TEST(FlockHolder, ParsesProcLocks) {
  const char* text =
      "1: POSIX  ADVISORY  WRITE 99 08:01:777 0 EOF\n"
      "2: FLOCK  ADVISORY  WRITE 1234 08:01:777 0 EOF\n"
      "2: -> FLOCK  ADVISORY  WRITE 1300 08:01:777 0 EOF\n"
      "3: FLOCK  ADVISORY  WRITE 55 00:1a:777 0 EOF\n";
  EXPECT_EQ(flock_holder(text, 8, 1, 777), std::optional<pid_t>(1234));
  EXPECT_EQ(flock_holder(text, 0, 0x1a, 777), std::optional<pid_t>(55));
  EXPECT_EQ(flock_holder(text, 8, 1, 778), std::nullopt);
  EXPECT_EQ(flock_holder("", 8, 1, 777), std::nullopt);
  EXPECT_EQ(flock_holder("garbage\n2: FLOCK x y z 08:01:777", 8, 1, 777), std::nullopt);
}

TEST_F(StateTest, ConcurrentSavesNeverLeaveATornFile) {
  StateStore store(dir_);
  ASSERT_TRUE(store.create("c"));
  ASSERT_TRUE(store.save(sample("c")));
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        State s = sample("c");
        s.pid = t * 1000 + i;
        s.annotations["pad"] = std::string(static_cast<size_t>(1000 * (t + 1)), 'x');
        EXPECT_TRUE(store.save(s));
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    auto r = store.load("c");
    EXPECT_TRUE(r) << r.error().what();
  }
  for (auto& w : writers) w.join();
}

}  // namespace
}  // namespace hull::oci
