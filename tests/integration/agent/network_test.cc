// The agent's network calls in a real VM: the VM gets one virtio-net NIC on a
// tap that lives in a network namespace this test unshares (nothing outside
// it is reachable), the agent configures it (UpdateInterface, UpdateRoutes,
// AddNeighbors), ListInterfaces/ListRoutes/ListNeighbors show the result, and
// a container in the VM pings the tap's address: traffic crosses the NIC.
// A container that asks for a new network namespace sees the NIC (it runs in
// the guest's root namespace), and the DNS relay answers through the guest.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

#include "agent.grpc.pb.h"
#include "agent_env.h"
#include "common/unique_fd.h"
#include "runtime/sandbox/agent_client.h"
#include "sandbox_env.h"

namespace hull::sandbox::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMac = "02:00:00:99:00:02";
constexpr const char* kPeerMac = "02:00:00:99:00:01";

// A network namespace of the test's own with tap0 (10.99.0.1/24, fd99::1/64)
// in it. Held by an fd of the namespace: closing it (and the tap) removes both.
struct TestNetns {
  UniqueFd ns;
  UniqueFd tap;
};

Result<TestNetns> make_test_netns(std::string* skip) {
  TestNetns out;
  Status st;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      *skip = "cannot unshare a network namespace (needs root)";
      return;
    }
    out.ns = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    out.tap = UniqueFd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!out.ns || !out.tap) {
      *skip = "no /dev/net/tun";
      return;
    }
    ifreq req{};
    std::strncpy(req.ifr_name, "tap0", IFNAMSIZ - 1);
    req.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (::ioctl(out.tap.get(), TUNSETIFF, &req) != 0) {
      st = fail_errno("TUNSETIFF tap0");
      return;
    }
    // `ip` runs in this thread's namespace (forked from it).
    std::string cmds =
        std::string("ip link set lo up && ip link set tap0 address ") + kPeerMac +
        " && ip addr add 10.99.0.1/24 dev tap0 && ip -6 addr add fd99::1/64 dev tap0 nodad"
        " && ip link set tap0 mtu 1400 up";
    if (std::system((cmds + " >/dev/null 2>&1").c_str()) != 0) {
      st = fail(Errc::System, "configuring tap0 with ip failed: " + cmds);
    }
  });
  t.join();
  if (!st) return fail(st.error());
  return out;
}

template <class Req, class Reply>
Result<Reply> call(AgentClient& a, AgentMethod<Req, Reply> m, const char* name, const Req& r) {
  return call_agent(a.stub(), m, name, r, std::chrono::milliseconds(30000));
}

const agent::Interface* find(const agent::Interfaces& all, const std::string& name) {
  for (const auto& i : all.interfaces()) {
    if (i.name() == name) return &i;
  }
  return nullptr;
}

TEST(NetworkTest, AgentConfiguresTheNicAndTrafficFlows) {
  std::string why;
  if (!environment_ready(&why)) GTEST_SKIP() << why;
  auto netns = make_test_netns(&why);
  ASSERT_TRUE(netns) << netns.error().what();
  if (!netns->ns) GTEST_SKIP() << why;
  std::string root = make_root();
  ASSERT_FALSE(root.empty());
  std::string rootfs = root + "/rootfs";
  if (!make_busybox_rootfs(rootfs, &why)) GTEST_SKIP() << why;

  SandboxOptions opts = options_for(root, "ia-net");
  SandboxNic nic;
  nic.id = "net0";
  nic.tap_fd = netns->tap.get();
  nic.mac = kMac;
  nic.mtu = 1400;
  opts.nics.push_back(nic);
  auto sb = Sandbox::start(opts);
  ASSERT_TRUE(sb) << sb.error().what();
  {
    AgentClient& a = (*sb)->agent();

    // At boot: eth0 with QEMU's MAC, down, no address.
    auto before = call(a, &agent::Agent::Stub::ListInterfaces, "ListInterfaces", agent::Empty());
    ASSERT_TRUE(before) << before.error().what();
    const agent::Interface* boot = find(*before, "eth0");
    ASSERT_NE(boot, nullptr) << before->DebugString();
    EXPECT_EQ(boot->mac(), kMac);
    EXPECT_FALSE(boot->up());
    EXPECT_NE(find(*before, "lo"), nullptr);

    agent::UpdateInterfaceRequest ui;
    agent::Interface* want = ui.mutable_interface();
    want->set_mac("02:00:00:99:00:02");
    want->set_name("eth0");
    want->set_mtu(1400);
    want->set_up(true);
    auto* a4 = want->add_addresses();
    a4->set_address("10.99.0.2");
    a4->set_prefix_len(24);
    auto* a6 = want->add_addresses();
    a6->set_address("fd99::2");
    a6->set_prefix_len(64);
    auto got = call(a, &agent::Agent::Stub::UpdateInterface, "UpdateInterface", ui);
    ASSERT_TRUE(got) << got.error().what();
    EXPECT_EQ(got->mtu(), 1400u);
    EXPECT_TRUE(got->up());

    agent::UpdateRoutesRequest ur;
    auto* def = ur.mutable_routes()->add_routes();
    def->set_destination("default");
    def->set_gateway("10.99.0.1");
    def->set_device("eth0");
    def->set_metric(5);
    auto* def6 = ur.mutable_routes()->add_routes();
    def6->set_destination("default");
    def6->set_family(6);
    def6->set_gateway("fd99::1");
    def6->set_device("eth0");
    auto* host = ur.mutable_routes()->add_routes();
    host->set_destination("192.0.2.0/24");
    host->set_gateway("10.99.0.1");
    host->set_device("eth0");
    host->set_mtu(1300);
    auto routes = call(a, &agent::Agent::Stub::UpdateRoutes, "UpdateRoutes", ur);
    ASSERT_TRUE(routes) << routes.error().what();

    agent::AddNeighborsRequest an;
    auto* n = an.mutable_neighbors()->add_neighbors();
    n->set_address("10.99.0.1");
    n->set_mac(kPeerMac);
    n->set_device("eth0");
    ASSERT_TRUE(call(a, &agent::Agent::Stub::AddNeighbors, "AddNeighbors", an));

    // What the List calls show.
    auto ifs = call(a, &agent::Agent::Stub::ListInterfaces, "ListInterfaces", agent::Empty());
    ASSERT_TRUE(ifs);
    const agent::Interface* eth0 = find(*ifs, "eth0");
    ASSERT_NE(eth0, nullptr);
    EXPECT_TRUE(eth0->up());
    EXPECT_EQ(eth0->mtu(), 1400u);
    std::set<std::string> addrs;
    for (const auto& x : eth0->addresses()) {
      addrs.insert(x.address() + "/" + std::to_string(x.prefix_len()));
    }
    EXPECT_TRUE(addrs.count("10.99.0.2/24") && addrs.count("fd99::2/64")) << eth0->DebugString();

    auto listed = call(a, &agent::Agent::Stub::ListRoutes, "ListRoutes", agent::Empty());
    ASSERT_TRUE(listed);
    std::set<std::string> seen;
    for (const auto& r : listed->routes()) {
      seen.insert(std::to_string(r.family()) + " " + r.destination() + " via " + r.gateway() +
                  " dev " + r.device() + " metric " + std::to_string(r.metric()) + " mtu " +
                  std::to_string(r.mtu()));
    }
    std::string all;
    for (const auto& s : seen) all += s + "\n";
    EXPECT_TRUE(seen.count("4 default via 10.99.0.1 dev eth0 metric 5 mtu 0")) << all;
    EXPECT_TRUE(seen.count("4 192.0.2.0/24 via 10.99.0.1 dev eth0 metric 0 mtu 1300")) << all;
    EXPECT_TRUE(seen.count("4 10.99.0.0/24 via  dev eth0 metric 0 mtu 0")) << all;
    bool v6default = false;
    for (const auto& r : listed->routes()) {
      v6default |= r.family() == 6 && r.destination() == "default" && r.gateway() == "fd99::1";
    }
    EXPECT_TRUE(v6default) << all;

    auto neigh = call(a, &agent::Agent::Stub::ListNeighbors, "ListNeighbors", agent::Empty());
    ASSERT_TRUE(neigh);
    bool perm = false;
    for (const auto& x : neigh->neighbors()) {
      perm |= x.address() == "10.99.0.1" && x.mac() == kPeerMac && x.device() == "eth0";
    }
    EXPECT_TRUE(perm) << neigh->DebugString();

    // A container that asks for a new network namespace (the busybox spec does)
    // runs in the guest's: it sees eth0 and reaches the peer in the test's namespace.
    std::string id = "ping";
    auto spec = busybox_spec(id, {"sh", "-c",
                                  "cat /sys/class/net/eth0/address; ping -c 1 -W 10 10.99.0.1 "
                                  ">/dev/null && echo ping4 ok; ping -6 -c 1 -W 10 fd99::1 "
                                  ">/dev/null && echo ping6 ok"});
    auto& caps = *spec.process->capabilities;  // ping's raw socket
    for (auto* set : {&caps.bounding, &caps.effective, &caps.permitted}) {
      if (*set) (*set)->push_back("CAP_NET_RAW");
    }
    bool has_netns = false;
    for (const auto& ns : *spec.linux->namespaces) has_netns |= ns.type == "network";
    EXPECT_TRUE(has_netns);
    auto c = TestContainer::create(**sb, rootfs, id, spec);
    ASSERT_TRUE(c) << c.error().what();
    ContainerClient& cc = (*c)->client();
    ASSERT_TRUE(cc.start(id));
    auto out = read_all(cc, id, "", OutputStream::Stdout);
    ASSERT_TRUE(out) << out.error().what();
    EXPECT_EQ(*out, std::string(kMac) + "\nping4 ok\nping6 ok\n");
    auto exit = cc.wait(id, "", 120s);
    ASSERT_TRUE(exit) << exit.error().what();
    EXPECT_EQ(exit->code, 0);
    ASSERT_TRUE((*c)->remove());

    // Errors name what was wrong.
    agent::UpdateInterfaceRequest missing;
    missing.mutable_interface()->set_mac("02:00:00:00:00:99");
    auto nf = call(a, &agent::Agent::Stub::UpdateInterface, "UpdateInterface", missing);
    ASSERT_FALSE(nf);
    EXPECT_EQ(nf.error().code, Errc::NotFound);
    EXPECT_NE(nf.error().what().find(kMac), std::string::npos) << nf.error().what();
  }
  EXPECT_TRUE((*sb)->stop());
  sb->reset();
  std::error_code ec;
  std::filesystem::remove_all(rootfs, ec);
  EXPECT_EQ(mounts_under(root), std::vector<std::string>{});
  EXPECT_EQ(processes_mentioning(root), std::vector<pid_t>{});
  EXPECT_EQ(leftovers(root), "");
  cleanup_root(root);
}

}  // namespace
}  // namespace hull::sandbox::testing
