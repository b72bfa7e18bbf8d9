// validate(): one case per rule, named after the runtime-spec section or the
// runc validator check it mirrors. The corpus test covers the messages for
// bad files; these cover the edges of each rule.
#include <string>

#include <gtest/gtest.h>

#include "common/oci/spec.h"

namespace hull::oci {
namespace {

std::string error_of(const Spec& s) {
  auto st = validate(s);
  if (st) return "<valid>";
  EXPECT_EQ(st.error().code, Errc::Invalid);
  return st.error().what();
}

Spec base() {
  return default_spec();
}

TEST(SpecValidate, DefaultsAreValid) {
  EXPECT_TRUE(validate(default_spec()));
  EXPECT_TRUE(validate(default_rootless_spec()));
}

TEST(SpecValidate, ConfigSpecificationVersion) {
  for (const char* ok :
       {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.0+build.5", "1.0.0-rc.1", "1.10.100"}) {
    Spec s = base();
    s.oci_version = ok;
    EXPECT_TRUE(validate(s)) << ok;
  }
  for (const char* bad : {"", "1", "1.0", "1.0.0.0", "2.0.0", "0.9.0", "v1.0.0", "1.0.0-", "1.0.0+",
                          "01.0.0", "1.a.0", " 1.0.0", "1..0"}) {
    Spec s = base();
    s.oci_version = bad;
    std::string got = error_of(s);
    EXPECT_EQ(got.rfind("config.json: ociVersion: must be ", 0), 0u) << bad << ": " << got;
  }
}

TEST(SpecValidate, ConfigProcess) {
  Spec s = base();
  s.process.reset();
  EXPECT_EQ(error_of(s), "config.json: process: must be present");
  s = base();
  s.process->args.reset();
  EXPECT_EQ(error_of(s), "config.json: process.args: must be a non-empty array");
  s = base();
  s.process->cwd = "";
  EXPECT_EQ(error_of(s), "config.json: process.cwd: must be an absolute path");
  s = base();
  s.process->oom_score_adj = -1000;
  EXPECT_TRUE(validate(s));
  s.process->oom_score_adj = -1001;
  EXPECT_EQ(error_of(s), "config.json: process.oomScoreAdj: must be between -1000 and 1000");
}

TEST(SpecValidate, ConfigRoot) {
  Spec s = base();
  s.root.reset();
  EXPECT_EQ(error_of(s), "config.json: root: must be present");
  s = base();
  s.root->path.clear();
  EXPECT_EQ(error_of(s), "config.json: root.path: must be a non-empty string");
}

TEST(SpecValidate, Capabilities) {
  Spec s = base();
  s.process->capabilities->ambient = std::vector<std::string>{"CAP_CHECKPOINT_RESTORE"};
  EXPECT_TRUE(validate(s));
  s.process->capabilities->ambient = std::vector<std::string>{"CAP_BPF", "CAP_41"};
  EXPECT_EQ(error_of(s),
            "config.json: process.capabilities.ambient[1]: unknown capability \"CAP_41\"");
  EXPECT_EQ(capability_number("CAP_CHOWN"), 0);
  EXPECT_EQ(capability_number("CAP_KILL"), 5);
  EXPECT_EQ(capability_number("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(capability_number("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_EQ(capability_number("KILL"), std::nullopt);
}

TEST(SpecValidate, Rlimits) {
  EXPECT_EQ(rlimit_number("RLIMIT_CPU"), 0);
  EXPECT_EQ(rlimit_number("RLIMIT_NOFILE"), 7);
  EXPECT_EQ(rlimit_number("RLIMIT_RTTIME"), 15);
  EXPECT_EQ(rlimit_number("NOFILE"), std::nullopt);
  Spec s = base();
  (*s.process->rlimits)[0].soft = 1024;
  (*s.process->rlimits)[0].hard = 1024;
  EXPECT_TRUE(validate(s));
  (*s.process->rlimits)[0].soft = 1025;
  EXPECT_EQ(error_of(s), "config.json: process.rlimits[0].soft: must not be greater than hard");
}

TEST(SpecValidate, Mounts) {
  Spec s = base();
  (*s.mounts)[3].destination = "dev/shm";
  EXPECT_EQ(error_of(s), "config.json: mounts[3].destination: must be an absolute path");
  s = base();
  (*s.mounts)[0].uid_mappings = std::vector<IdMapping>{IdMapping{}};
  EXPECT_EQ(error_of(s),
            "config.json: mounts[0]: uidMappings and gidMappings must be given together");
}

TEST(SpecValidate, Hooks) {
  Spec s = base();
  Hook h;
  h.path = "/usr/bin/hook";
  h.timeout = 1;
  s.hooks.emplace();
  s.hooks->create_container = std::vector<Hook>{h};
  EXPECT_TRUE(validate(s));
  (*s.hooks->create_container)[0].timeout = -5;
  EXPECT_EQ(error_of(s),
            "config.json: hooks.createContainer[0].timeout: must be greater than zero");
  (*s.hooks->create_container)[0].timeout.reset();
  (*s.hooks->create_container)[0].path = "";
  EXPECT_EQ(error_of(s), "config.json: hooks.createContainer[0].path: must be an absolute path");
}

TEST(SpecValidate, Namespaces) {
  Spec s = base();
  Namespace t;
  t.type = "time";
  t.path = "/proc/1/ns/time";
  s.linux->namespaces->push_back(t);
  EXPECT_TRUE(validate(s));
  s.linux->namespaces->push_back(t);
  EXPECT_EQ(error_of(s), "config.json: linux.namespaces[7].type: duplicate namespace \"time\"");
  s = base();
  (*s.linux->namespaces)[0].type = "PID";
  EXPECT_EQ(error_of(s).rfind("config.json: linux.namespaces[0].type: unknown namespace \"PID\" "
                              "(known: pid, network, mount, ipc, uts, user, cgroup, time)",
                              0),
            0u);
}

TEST(SpecValidate, HostnameNeedsUts) {
  // runc: "unable to set hostname without a private UTS namespace".
  Spec s = base();
  std::erase_if(*s.linux->namespaces, [](const Namespace& n) { return n.type == "uts"; });
  EXPECT_EQ(error_of(s), "config.json: hostname: needs a uts namespace in linux.namespaces");
  s.hostname = "";
  EXPECT_TRUE(validate(s));
  s.domainname = "example.org";
  EXPECT_EQ(error_of(s), "config.json: domainname: needs a uts namespace in linux.namespaces");
}

TEST(SpecValidate, UserNamespaceMappings) {
  Spec s = base();
  Namespace user;
  user.type = "user";
  user.path = "/proc/42/ns/user";
  s.linux->namespaces->push_back(user);
  EXPECT_TRUE(validate(s)) << "joining a user namespace needs no mappings";
  s.linux->namespaces->back().path.reset();
  EXPECT_EQ(error_of(s), "config.json: linux.uidMappings: a new user namespace needs uid mappings");
  s.linux->uid_mappings = std::vector<IdMapping>{IdMapping{0, 1000, 1, Json::object()}};
  EXPECT_EQ(error_of(s), "config.json: linux.gidMappings: a new user namespace needs gid mappings");
  s.linux->gid_mappings = s.linux->uid_mappings;
  EXPECT_TRUE(validate(s));
  s.linux->namespaces->pop_back();
  EXPECT_EQ(error_of(s),
            "config.json: linux.uidMappings: needs a user namespace in linux.namespaces");
}

TEST(SpecValidate, Devices) {
  Spec s = base();
  for (const char* t : {"c", "b", "u", "p"}) {
    Device d;
    d.type = t;
    d.path = "/dev/x";
    s.linux->devices = std::vector<Device>{d};
    EXPECT_TRUE(validate(s)) << t;
  }
  (*s.linux->devices)[0].type = "a";
  EXPECT_EQ(error_of(s), "config.json: linux.devices[0].type: must be one of c, b, u, p");
  s = base();
  (*s.linux->resources->devices)[0].type = "u";
  EXPECT_EQ(error_of(s), "config.json: linux.resources.devices[0].type: must be one of a, c, b");
  (*s.linux->resources->devices)[0].type = "a";
  (*s.linux->resources->devices)[0].access = "rwx";
  EXPECT_EQ(error_of(s),
            "config.json: linux.resources.devices[0].access: must be made of the letters r, w, m");
}

TEST(SpecValidate, RootfsPropagation) {
  Spec s = base();
  for (const char* p : {"shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate",
                        "runbindable"}) {
    s.linux->rootfs_propagation = p;
    EXPECT_TRUE(validate(s)) << p;
  }
  s.linux->rootfs_propagation = "";
  EXPECT_NE(error_of(s).find("linux.rootfsPropagation: must be one of"), std::string::npos);
}

TEST(SpecValidate, Sysctl) {
  Spec s = base();
  s.linux->sysctl = StringMap{{"kernel.shmmax", "1"},
                              {"fs.mqueue.msg_max", "10"},
                              {"net/ipv4/ip_forward", "1"},
                              {"kernel.domainname", "x"}};
  EXPECT_TRUE(validate(s)) << error_of(s);
  for (const char* bad : {"", ".net", "net.", "net ipv4", "net.ipv4.*"}) {
    s.linux->sysctl = StringMap{{bad, "1"}};
    EXPECT_NE(error_of(s).find("is not a well-formed sysctl name"), std::string::npos) << bad;
  }
  s.linux->sysctl = StringMap{{"kernel.shmmax", "1"}};
  std::erase_if(*s.linux->namespaces, [](const Namespace& n) { return n.type == "ipc"; });
  EXPECT_EQ(error_of(s), "config.json: linux.sysctl[\"kernel.shmmax\"]: needs an ipc namespace");
}

TEST(SpecValidate, Seccomp) {
  Spec s = base();
  Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.architectures = std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"};
  sc.flags = std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"};
  Syscall rule;
  rule.names = {"personality"};
  rule.action = "SCMP_ACT_ALLOW";
  for (const char* op : {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                         "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}) {
    SeccompArg a;
    a.index = 5;
    a.op = op;
    rule.args.emplace().push_back(a);
  }
  sc.syscalls = std::vector<Syscall>{rule};
  s.linux->seccomp = sc;
  EXPECT_TRUE(validate(s)) << error_of(s);
  for (const char* action :
       {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"}) {
    s.linux->seccomp->default_action = action;
    EXPECT_TRUE(validate(s)) << action;
  }
  s.linux->seccomp->default_action = "SCMP_ACT_NOTIFY";
  EXPECT_EQ(error_of(s),
            "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default "
            "action");
  s.linux->seccomp->default_action = "SCMP_ACT_ALLOW";
  (*s.linux->seccomp->syscalls)[0].names.clear();
  EXPECT_EQ(error_of(s), "config.json: linux.seccomp.syscalls[0].names: must be a non-empty array");
}

TEST(SpecValidate, MaskedAndReadonlyPathsNeedMountNamespace) {
  Spec s = base();
  std::erase_if(*s.linux->namespaces, [](const Namespace& n) { return n.type == "mount"; });
  EXPECT_EQ(error_of(s), "config.json: linux.maskedPaths: needs a mount namespace");
  s.linux->masked_paths.reset();
  EXPECT_EQ(error_of(s), "config.json: linux.readonlyPaths: needs a mount namespace");
}

TEST(SpecValidate, OriginIsUsed) {
  Spec s = base();
  s.root.reset();
  auto st = validate(s, "/b/config.json");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "/b/config.json: root: must be present");
}

TEST(SpecValidate, ControlBytesInNamesAreEscaped) {
  Spec s = base();
  (*s.linux->namespaces)[0].type = "p\x1bid";
  EXPECT_NE(error_of(s).find("unknown namespace \"p\\x1bid\""), std::string::npos) << error_of(s);
}

}  // namespace
}  // namespace hull::oci
