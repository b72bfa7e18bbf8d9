#include "shim/record.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "raw_peer.h"  // TempDir

namespace hull::shim {
namespace {

PodRecord sample_record() {
  PodRecord r;
  r.pod = "p1";
  r.address = "unix:///run/containerd/s/abc";
  r.shim = {"containerd-shim-hull-v2", 10, 1234};
  r.sandbox_dir = "/run/hull/shim/default/sandboxes/p1";
  r.procs = {{"qemu", 11, 1300}, {"virtiofsd", 12, 1301}, {"hull-vsock", 13, 1302}};
  return r;
}

TEST(ShimRecord, RoundTrips) {
  auto back = parse_record(record_json(sample_record()));
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(*back, sample_record());
}

TEST(ShimRecord, CarriesThePodsHostCgroup) {
  PodRecord r = sample_record();
  r.cgroup = R"({"dirs":[],"path":"/kubepods/pod1/p1"})";  // as nlohmann dumps it
  auto back = parse_record(record_json(r));
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(back->cgroup, r.cgroup);
  auto bad =
      parse_record(R"({"pod": "p", "cgroup": "x", "shim": {"name": "s", "pid": 1, "start": 2}})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().msg, "pod record: cgroup: not an object");
}

TEST(ShimRecord, ErrorsNameTheField) {
  auto not_json = parse_record("{");
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().msg, "pod record: not a JSON object");
  auto no_pod = parse_record(R"({"shim": {"name": "s", "pid": 1, "start": 2}})");
  ASSERT_FALSE(no_pod);
  EXPECT_EQ(no_pod.error().msg, "pod record: pod: missing");
  auto bad_pid = parse_record(R"({"pod": "p", "shim": {"name": "s", "pid": -1, "start": 2}})");
  ASSERT_FALSE(bad_pid);
  EXPECT_EQ(bad_pid.error().msg, "pod record: shim.pid: missing or not a pid");
  auto bad_proc = parse_record(
      R"({"pod": "p", "shim": {"name": "s", "pid": 1, "start": 2}, "procs": [{"name": "q"}]})");
  ASSERT_FALSE(bad_proc);
  EXPECT_EQ(bad_proc.error().msg, "pod record: procs[0].pid: missing or not a pid");
  auto bad_dir = parse_record(
      R"({"pod": "p", "sandbox_dir": 3, "shim": {"name": "s", "pid": 1, "start": 2}})");
  ASSERT_FALSE(bad_dir);
  EXPECT_EQ(bad_dir.error().msg, "pod record: sandbox_dir: not a string");
}

TEST(ShimRecord, PathsValidateTheNamespace) {
  EXPECT_EQ(pod_root("k8s.io").value(), "/run/hull/shim/k8s.io");
  EXPECT_FALSE(pod_root("../x"));
  EXPECT_FALSE(pod_root(""));
  EXPECT_EQ(record_path("/r", "p1"), "/r/pods/p1.json");
}

TEST(ShimRecord, WriteAndRead) {
  ttrpc::test::TempDir dir;
  const std::string file = dir / "pods/p1.json";
  auto none = read_record(file);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  ASSERT_TRUE(write_record(file, sample_record()));
  auto some = read_record(file);
  ASSERT_TRUE(some && *some);
  EXPECT_EQ(**some, sample_record());
}

TEST(ShimRecord, SelfRefHasAStartTime) {
  ProcRef me = self_ref("me");
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_GT(me.start, 0u);
}

}  // namespace
}  // namespace hull::shim
