// Spec -> plan: values resolved, every bad value an error naming its field.
#include "agent/engine/plan.h"
#include "agent/engine/str.h"
#include "common/text.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace hull::engine {
namespace {

oci::Spec spec() {
  oci::Spec s = oci::default_spec();
  s.process->terminal = false;
  return s;
}

std::string error_of(const oci::Spec& s) {
  auto r = plan_container(s);
  return r ? std::string("no error") : r.error().msg;
}

TEST(Plan, DefaultSpec) {
  auto r = plan_container(spec());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_TRUE(r->has_namespace(CLONE_NEWPID));
  EXPECT_TRUE(r->has_namespace(CLONE_NEWNS));
  EXPECT_FALSE(r->creates_userns());
  ASSERT_EQ(r->mounts.size(), 7u);
  EXPECT_EQ(r->mounts[6].type, "cgroup2");  // "cgroup" on a cgroup v2 guest
  EXPECT_TRUE(r->root_readonly);
  ASSERT_TRUE(r->process.caps);
  EXPECT_EQ(r->process.caps->bounding, (std::vector<int>{29, 5, 10}));
  ASSERT_EQ(r->process.rlimits.size(), 1u);
  EXPECT_EQ(r->process.rlimits[0].resource, 7);
  EXPECT_TRUE(r->process.no_new_privileges);
}

TEST(Plan, NamespacesJoinOrderUserFirst) {
  oci::Spec s = spec();
  s.linux->namespaces->push_back({"user", "/proc/1/ns/user", oci::Json::object()});
  auto r = plan_container(s);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->namespaces.front().flag, CLONE_NEWUSER);
  EXPECT_FALSE(r->creates_userns());
}

TEST(Plan, RlimitErrorsNameTheField) {
  oci::Spec s = spec();
  s.process->rlimits->push_back({"RLIMIT_FOO", 1, 1, oci::Json::object()});
  EXPECT_EQ(error_of(s), "process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"");
  s = spec();
  s.process->rlimits->push_back({"RLIMIT_NOFILE", 1, 1, oci::Json::object()});
  EXPECT_EQ(error_of(s), "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"");
  s = spec();
  (*s.process->rlimits)[0].soft = 2048;
  EXPECT_EQ(error_of(s), "process.rlimits[0]: soft limit is greater than the hard limit");
}

TEST(Plan, CapabilityAndProcessErrors) {
  oci::Spec s = spec();
  s.process->capabilities->ambient = std::vector<std::string>{"CAP_KILL", "CAP_NOPE"};
  EXPECT_EQ(error_of(s), "process.capabilities.ambient[1]: unknown capability \"CAP_NOPE\"");
  s = spec();
  s.process->cwd = "relative";
  EXPECT_EQ(error_of(s), "process.cwd: must be an absolute path, got \"relative\"");
  s = spec();
  s.process->args = std::vector<std::string>{};
  EXPECT_EQ(error_of(s), "process.args: must name the program to run");
  s = spec();
  s.process->env->push_back("NOEQUALS");
  EXPECT_EQ(error_of(s), "process.env[2]: not of the form KEY=VALUE: \"NOEQUALS\"");
  s = spec();
  s.process->oom_score_adj = 1001;
  EXPECT_EQ(error_of(s), "process.oomScoreAdj: must be in [-1000, 1000]");
  s = spec();
  s.process.reset();
  EXPECT_EQ(error_of(s), "process: is required to create a container");
}

TEST(Plan, LinuxErrors) {
  oci::Spec s = spec();
  s.linux->namespaces->push_back({"bogus", std::nullopt, oci::Json::object()});
  EXPECT_EQ(error_of(s), "linux.namespaces[6].type: unknown namespace type \"bogus\"");
  s = spec();
  s.linux->namespaces->push_back({"pid", std::nullopt, oci::Json::object()});
  EXPECT_EQ(error_of(s), "linux.namespaces[6].type: duplicate namespace \"pid\"");
  s = spec();
  s.linux->rootfs_propagation = "sideways";
  EXPECT_EQ(error_of(s), "linux.rootfsPropagation: unknown propagation \"sideways\"");
  s = spec();
  s.linux->namespaces->push_back({"user", std::nullopt, oci::Json::object()});
  EXPECT_EQ(error_of(s),
            "linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  s = spec();
  s.linux->devices = std::vector<oci::Device>{
      {"x", "/dev/x", 1, 3, std::nullopt, std::nullopt, std::nullopt, oci::Json::object()}};
  EXPECT_EQ(error_of(s), "linux.devices[0].type: unknown device type \"x\" (want c, u, b or p)");
  s = spec();
  s.linux->namespaces->erase(s.linux->namespaces->begin() + 3);  // uts
  EXPECT_EQ(error_of(s), "hostname: needs a new UTS namespace");
  s = spec();
  std::erase_if(*s.linux->namespaces, [](const oci::Namespace& n) { return n.type == "mount"; });
  EXPECT_EQ(error_of(s),
            "mounts: need a new mount namespace: add {\"type\": \"mount\"} to linux.namespaces");
  s = spec();
  s.linux->time_offsets = oci::Json{{"monotonic", {{"secs", 10}}}};
  EXPECT_EQ(error_of(s), "linux.timeOffsets: needs a new time namespace");
  s = spec();
  s.linux->personality = oci::Personality{"LINUX64", std::nullopt, oci::Json::object()};
  EXPECT_EQ(error_of(s),
            "linux.personality.domain: unknown domain \"LINUX64\" (want LINUX or LINUX32)");
}

TEST(Plan, Devices) {
  oci::Spec s = spec();
  oci::Device d;
  d.type = "c";
  d.path = "/dev/fuse";
  d.major = 10;
  d.minor = 229;
  d.file_mode = 0600;
  d.uid = 5;
  s.linux->devices = std::vector<oci::Device>{d};
  auto r = plan_container(s);
  ASSERT_TRUE(r) << r.error().what();
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_EQ(r->devices[0].mode, static_cast<mode_t>(S_IFCHR | 0600));
  EXPECT_EQ(r->devices[0].dev, makedev(10, 229));
  EXPECT_EQ(r->devices[0].uid, 5u);
}

TEST(Plan, MountErrors) {
  oci::Spec s = spec();
  (*s.mounts)[2].destination = "dev/pts";
  EXPECT_EQ(error_of(s), "mounts[2].destination: must be an absolute path");
  s = spec();
  (*s.mounts)[1].type.reset();
  EXPECT_EQ(error_of(s), "mounts[1].type: is required unless the options say bind or rbind");
  s = spec();
  oci::Mount m;
  m.destination = "/data";
  m.type = "bind";
  m.options = std::vector<std::string>{"rbind", "ro"};
  s.mounts->push_back(m);
  EXPECT_EQ(error_of(s), "mounts[7].source: is required for a bind mount");
  (*s.mounts)[7].source = "/srv";
  auto r = plan_container(s);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_TRUE(r->mounts[7].opts.is_bind());
  EXPECT_EQ(r->mounts[7].type, "");
  EXPECT_TRUE(r->mounts[7].opts.flags & MS_REC);
}

TEST(Plan, BindSubmountsFromTheHost) {
  oci::Spec s = spec();
  oci::Mount m;
  m.destination = "/data";
  m.type = "bind";
  m.source = "/srv";
  m.options = std::vector<std::string>{"rbind", "ro"};
  m.extra[std::string(oci::kSubmountsKey)] = {"sub", "sub/deeper"};
  s.mounts->push_back(m);
  auto r = plan_container(s);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->mounts[7].submounts, (std::vector<std::string>{"sub", "sub/deeper"}));
  for (const char* bad : {"/etc", "../x", "a/../b", "a//b", "", "./a", "a/"}) {
    (*s.mounts)[7].extra[std::string(oci::kSubmountsKey)] = {"ok", bad};
    EXPECT_EQ(error_of(s),
              cat("mounts[7].io.hull.submounts[1]: ", quote(bad), " is not a plain relative path"));
  }
  (*s.mounts)[7].extra[std::string(oci::kSubmountsKey)] = "sub";
  EXPECT_EQ(error_of(s), "mounts[7].io.hull.submounts: must be an array of relative paths");
  (*s.mounts)[7].extra[std::string(oci::kSubmountsKey)] = {1};
  EXPECT_EQ(error_of(s), "mounts[7].io.hull.submounts[0]: must be a string");
}

TEST(Plan, SchedulerAndIoPriority) {
  oci::Process p = *spec().process;
  p.scheduler = oci::Json{
      {"policy", "SCHED_FIFO"}, {"priority", 10}, {"flags", {"SCHED_FLAG_RESET_ON_FORK"}}};
  p.io_priority = oci::Json{{"class", "IOPRIO_CLASS_IDLE"}, {"priority", 0}};
  auto r = plan_process(p, "process");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->scheduler->policy, 1u);
  EXPECT_EQ(r->scheduler->priority, 10u);
  EXPECT_EQ(r->scheduler->flags, 1u);
  EXPECT_EQ(*r->io_priority, 3 << 13);
  p.scheduler = oci::Json{{"policy", "SCHED_NOPE"}};
  EXPECT_EQ(plan_process(p, "process").error().msg,
            "process.scheduler.policy: unknown policy \"SCHED_NOPE\"");
  p.scheduler = oci::Json{{"policy", "SCHED_OTHER"}, {"nice", 40}};
  EXPECT_EQ(plan_process(p, "process").error().msg, "process.scheduler.nice: out of range");
  p.scheduler.reset();
  p.io_priority = oci::Json{{"class", "IOPRIO_CLASS_BE"}, {"priority", 8}};
  EXPECT_EQ(plan_process(p, "process").error().msg, "process.ioPriority.priority: out of range");
}

TEST(Plan, ExecProcessFieldPrefix) {
  oci::Process p = *spec().process;
  p.user.umask = 01000;
  auto r = plan_process(p, "process");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().msg, "process.user.umask: must be at most 0777");
}

}  // namespace
}  // namespace hull::engine
