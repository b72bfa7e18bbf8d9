// default_spec / default_rootless_spec: what `runc spec` and
// `runc spec --rootless` write, with hull's version and hostname.
#include <unistd.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "common/oci/spec.h"

namespace hull::oci {
namespace {

bool has_ns(const Spec& s, const std::string& type) {
  const auto& nss = *s.linux->namespaces;
  return std::any_of(nss.begin(), nss.end(), [&](const Namespace& n) { return n.type == type; });
}

const Mount& mount_at(const Spec& s, const std::string& dest) {
  for (const auto& m : *s.mounts) {
    if (m.destination == dest) return m;
  }
  ADD_FAILURE() << "no mount at " << dest;
  return s.mounts->front();
}

TEST(DefaultSpec, MatchesRuncSpec) {
  Spec s = default_spec();
  EXPECT_EQ(s.oci_version, "1.1.0");
  EXPECT_EQ(s.hostname, "hull");
  ASSERT_TRUE(s.root);
  EXPECT_EQ(s.root->path, "rootfs");
  EXPECT_EQ(s.root->readonly, true);

  const Process& p = *s.process;
  EXPECT_EQ(p.terminal, true);
  EXPECT_EQ(*p.args, std::vector<std::string>{"sh"});
  EXPECT_EQ(p.cwd, "/");
  EXPECT_EQ(p.no_new_privileges, true);
  EXPECT_EQ(p.user.uid, 0u);
  std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  EXPECT_EQ(p.capabilities->bounding, caps);
  EXPECT_EQ(p.capabilities->effective, caps);
  EXPECT_EQ(p.capabilities->permitted, caps);
  EXPECT_FALSE(p.capabilities->inheritable);  // CVE-2022-29162
  EXPECT_FALSE(p.capabilities->ambient);
  ASSERT_EQ(p.rlimits->size(), 1u);
  EXPECT_EQ((*p.rlimits)[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ((*p.rlimits)[0].hard, 1024u);
  EXPECT_EQ((*p.rlimits)[0].soft, 1024u);

  std::vector<std::string> dests;
  for (const auto& m : *s.mounts) dests.push_back(m.destination);
  EXPECT_EQ(dests, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                             "/sys", "/sys/fs/cgroup"}));
  EXPECT_FALSE(mount_at(s, "/proc").options);
  EXPECT_EQ(mount_at(s, "/dev/pts").options->back(), "gid=5");
  EXPECT_EQ(mount_at(s, "/sys").type, "sysfs");

  for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
    EXPECT_TRUE(has_ns(s, ns)) << ns;
  }
  EXPECT_FALSE(has_ns(s, "user"));
  EXPECT_EQ(s.linux->masked_paths->size(), 11u);
  EXPECT_EQ(s.linux->readonly_paths->size(), 5u);
  ASSERT_EQ(s.linux->resources->devices->size(), 1u);
  EXPECT_FALSE((*s.linux->resources->devices)[0].allow);
  EXPECT_EQ((*s.linux->resources->devices)[0].access, "rwm");
}

TEST(DefaultSpec, SerializesLikeRunc) {
  std::string out = serialize_spec(default_spec());
  EXPECT_EQ(out.rfind("{\n\t\"", 0), 0u);
  Json j = Json::parse(out);
  EXPECT_EQ(j["ociVersion"], "1.1.0");
  EXPECT_EQ(j["process"]["user"], Json::parse(R"({"uid":0,"gid":0})"));
  EXPECT_EQ(j["mounts"][0],
            Json::parse(R"({"destination":"/proc","type":"proc","source":"proc"})"));
  EXPECT_EQ(j["linux"]["resources"]["devices"][0],
            Json::parse(R"({"allow":false,"access":"rwm"})"));
  auto back = parse_spec(out);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, default_spec());
}

TEST(DefaultSpec, RootlessFollowsToRootless) {
  Spec s = default_rootless_spec();
  EXPECT_TRUE(validate(s));
  EXPECT_FALSE(has_ns(s, "network"));
  EXPECT_TRUE(has_ns(s, "user"));
  EXPECT_EQ(s.linux->namespaces->back().type, "user");
  ASSERT_EQ(s.linux->uid_mappings->size(), 1u);
  EXPECT_EQ((*s.linux->uid_mappings)[0].host_id, static_cast<uint32_t>(::geteuid()));
  EXPECT_EQ((*s.linux->uid_mappings)[0].container_id, 0u);
  EXPECT_EQ((*s.linux->uid_mappings)[0].size, 1u);
  EXPECT_EQ((*s.linux->gid_mappings)[0].host_id, static_cast<uint32_t>(::getegid()));
  const Mount& sys = mount_at(s, "/sys");
  EXPECT_EQ(sys.type, "none");
  EXPECT_EQ(sys.source, "/sys");
  EXPECT_EQ(*sys.options, (std::vector<std::string>{"rbind", "nosuid", "noexec", "nodev", "ro"}));
  const auto& pts = *mount_at(s, "/dev/pts").options;
  EXPECT_EQ(std::count(pts.begin(), pts.end(), "gid=5"), 0);
  EXPECT_EQ(pts.size(), 5u);
  EXPECT_FALSE(s.linux->resources);
  EXPECT_EQ(s.mounts->size(), default_spec().mounts->size());
}

TEST(DefaultSpec, ToRootlessUsesTheGivenIds) {
  Spec s = default_spec();
  Namespace user;
  user.type = "user";
  user.path = "/proc/1/ns/user";
  s.linux->namespaces->push_back(user);
  Mount m;
  m.destination = "/sys/";
  m.options = std::vector<std::string>{"uid=1", "gid=2"};
  s.mounts->push_back(m);
  Mount only_ids;
  only_ids.destination = "/x";
  only_ids.options = std::vector<std::string>{"uid=1"};
  s.mounts->push_back(only_ids);
  to_rootless(s, 1234, 5678);
  EXPECT_EQ((*s.linux->uid_mappings)[0].host_id, 1234u);
  EXPECT_EQ((*s.linux->gid_mappings)[0].host_id, 5678u);
  int users = 0;
  for (const auto& n : *s.linux->namespaces) users += n.type == "user";
  EXPECT_EQ(users, 1);
  EXPECT_FALSE(s.linux->namespaces->back().path);  // a new user namespace
  EXPECT_EQ(s.mounts->at(s.mounts->size() - 2).destination, "/sys");
  EXPECT_FALSE(s.mounts->back().options);
}

}  // namespace
}  // namespace hull::oci
