// The container record (runtime/container/record.h): state.json's "hull"
// object as typed fields, the shape on disk unchanged, loaded under the lock.
#include "runtime/container/record.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "runtime/container/container.h"

namespace hull::container {
namespace {

using Json = nlohmann::json;

// A state.json as hull has written it since the record had these keys.
constexpr const char* kStateOnDisk = R"({
  "ociVersion": "1.1.0", "id": "c1", "pid": 4242, "status": "paused",
  "bundle": "/b", "rootfs": "/b/rootfs", "created": "2026-11-21T07:13:55.123456789Z",
  "owner": "", "pidStartTime": 99,
  "hull": {
    "hooks": {"poststop": [{"path": "/bin/true", "args": ["true", "x"], "timeout": 5}]},
    "host_cgroup": {"path": "/hull/c1", "version": 1, "made": ["cpu:/hull/c1"]},
    "sandbox_dir": "/run/hull/sandboxes/c1",
    "vsock_socket": "/run/hull/sandboxes/c1/vsock.sock",
    "procs": [{"name": "qemu", "pid": 11, "start": 1001},
              {"name": "virtiofsd", "pid": 12, "start": 1002},
              {"name": "hull-vsock", "pid": 13, "start": 1003}],
    "network": {"netns": "/var/run/netns/x", "links": ["eth0", "eth1"]},
    "paused_from": "created"
  }
})";

Result<Record> parse(const std::string& text) {
  HULL_ASSIGN(s, oci::state_from_json(text, "state.json"));
  return record_from_json(std::move(s), "state.json");
}

TEST(Record, ReadsEveryKeyOfTheStateOnDisk) {
  auto r = parse(kStateOnDisk);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->state.id, "c1");
  EXPECT_EQ(r->state.pid, 4242);
  EXPECT_EQ(r->state.status, oci::ContainerStatus::Paused);
  ASSERT_TRUE(r->hooks && r->hooks->poststop);
  ASSERT_EQ(r->hooks->poststop->size(), 1u);
  EXPECT_EQ((*r->hooks->poststop)[0].path, "/bin/true");
  EXPECT_EQ((*r->hooks->poststop)[0].timeout, 5);
  ASSERT_TRUE(r->host_cgroup);
  EXPECT_EQ(r->host_cgroup->value("path", ""), "/hull/c1");
  EXPECT_EQ(r->sandbox_dir, "/run/hull/sandboxes/c1");
  EXPECT_EQ(r->vsock_socket, "/run/hull/sandboxes/c1/vsock.sock");
  EXPECT_EQ(r->procs, (std::vector<VmProcess>{
                          {"qemu", 11, 1001}, {"virtiofsd", 12, 1002}, {"hull-vsock", 13, 1003}}));
  ASSERT_TRUE(r->network);
  EXPECT_EQ(r->network->netns, "/var/run/netns/x");
  EXPECT_EQ(r->network->links, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_EQ(r->paused_from, oci::ContainerStatus::Created);
  EXPECT_TRUE(r->state.hull.empty()) << "the typed fields, not the bag, carry the record";
}

TEST(Record, WritesTheSameShapeBack) {
  auto r = parse(kStateOnDisk);
  ASSERT_TRUE(r) << r.error().what();
  Json want = Json::parse(kStateOnDisk)["hull"];
  EXPECT_EQ(record_to_json(*r), want);
  auto again = record_from_json(
      [&] {
        oci::State s = r->state;
        s.hull = record_to_json(*r);
        return s;
      }(),
      "state.json");
  ASSERT_TRUE(again) << again.error().what();
  EXPECT_EQ(record_to_json(*again), record_to_json(*r));
  EXPECT_EQ(oci::to_json(again->state), oci::to_json(r->state));
}

TEST(Record, EveryKeyIsOptional) {
  oci::State s;
  s.id = "c2";
  auto r = record_from_json(s, "state.json");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_FALSE(r->hooks);
  EXPECT_FALSE(r->host_cgroup);
  EXPECT_TRUE(r->sandbox_dir.empty());
  EXPECT_TRUE(r->procs.empty());
  EXPECT_FALSE(r->network);
  EXPECT_FALSE(r->paused_from);
  EXPECT_EQ(record_to_json(*r), Json::object());
}

TEST(Record, RefusesWrongTypesNamingTheKey) {
  auto error_of = [](Json hull) {
    oci::State s;
    s.id = "c3";
    s.hull = std::move(hull);
    auto r = record_from_json(s, "/run/hull/c3/state.json");
    return r ? std::string() : r.error().what();
  };
  EXPECT_NE(error_of({{"sandbox_dir", 7}})
                .find("/run/hull/c3/state.json: hull.sandbox_dir: must "
                      "be a string"),
            std::string::npos);
  EXPECT_NE(error_of({{"procs", {{{"pid", -1}}}}}).find("hull.procs[0].pid"), std::string::npos);
  EXPECT_NE(error_of({{"procs", {{{"start", "x"}}}}}).find("hull.procs[0].start"),
            std::string::npos);
  EXPECT_NE(error_of({{"network", {{"links", {1}}}}}).find("hull.network.links"),
            std::string::npos);
  EXPECT_NE(error_of({{"paused_from", "stopped"}}).find("hull.paused_from"), std::string::npos);
  EXPECT_NE(error_of({{"hooks", {{"poststop", "x"}}}}), "");
}

TEST(Record, TheMonitorsReportFillsTheVmFields) {
  Record r;
  r.sandbox_dir = "/old";
  apply_vm_report(r, Json{{"sandbox_dir", "/run/hull/sandboxes/c4"},
                          {"vsock_socket", "/s.sock"},
                          {"procs", Json::array({{{"name", "qemu"}, {"pid", 5}, {"start", 6}}})},
                          {"network", {{"netns", ""}, {"links", Json::array()}}}});
  EXPECT_EQ(r.sandbox_dir, "/run/hull/sandboxes/c4");
  EXPECT_EQ(r.vsock_socket, "/s.sock");
  EXPECT_EQ(r.procs, (std::vector<VmProcess>{{"qemu", 5, 6}}));
  ASSERT_TRUE(r.network);
  // A malformed field leaves that one as it was; the others still count.
  apply_vm_report(r, Json{{"sandbox_dir", 1}, {"vsock_socket", "/t.sock"}});
  EXPECT_EQ(r.sandbox_dir, "/run/hull/sandboxes/c4");
  EXPECT_EQ(r.vsock_socket, "/t.sock");
}

class RecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-record-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ctx_.root = dir_ + "/root";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  Context ctx_;
};

TEST_F(RecordStoreTest, LoadHoldsTheLockAndSaveWritesTheRecord) {
  {
    oci::StateStore store(ctx_.root);
    auto lock = store.create("c5");
    ASSERT_TRUE(lock) << lock.error().what();
    auto r = parse(kStateOnDisk);
    ASSERT_TRUE(r);
    r->state.id = "c5";
    ASSERT_TRUE(save(store, *r));
  }
  auto locked = load(ctx_, "c5");
  ASSERT_TRUE(locked) << locked.error().what();
  EXPECT_EQ(locked->record.sandbox_dir, "/run/hull/sandboxes/c1");
  // Held: another command waits for it and gives up.
  auto other = oci::StateStore(ctx_.root, std::chrono::milliseconds(200)).lock("c5");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::Timeout);

  locked->record.paused_from.reset();
  locked->record.state.status = oci::ContainerStatus::Running;
  ASSERT_TRUE(locked->save());
  auto back = load_unlocked(ctx_, "c5");
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_FALSE(back->paused_from);
  EXPECT_EQ(back->state.status, oci::ContainerStatus::Running);
  // On disk: the same keys under "hull", nothing else.
  std::ifstream in(ctx_.root + "/c5/state.json");
  Json disk = Json::parse(in);
  EXPECT_FALSE(disk["hull"].contains("paused_from"));
  EXPECT_EQ(disk["hull"]["vsock_socket"], "/run/hull/sandboxes/c1/vsock.sock");
}

TEST_F(RecordStoreTest, NoSuchContainer) {
  auto locked = load(ctx_, "nope");
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, Errc::NotFound);
}

}  // namespace
}  // namespace hull::container
