// The wiring against the real kernel, in a network namespace of the test's
// own (unshare on a thread: setns/unshare of a network namespace changes the
// calling thread only). Needs root; skips otherwise.
#include "runtime/network/wiring.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>

#include "runtime/network/netns.h"

namespace hull::network {
namespace {

// Runs `fn` on a thread in a new network namespace.
void in_new_netns(const std::function<void()>& fn) {
  std::thread t([&] {
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0);
    fn();
  });
  t.join();
}

bool sh(const std::string& cmd) {
  return std::system(cmd.c_str()) == 0;
}

class WiringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, taps, tc)";
    if (!sh("command -v ip >/dev/null && command -v tc >/dev/null")) GTEST_SKIP() << "no ip/tc";
  }
};

TEST_F(WiringTest, VethIsWiredToATapBothWaysAndUnwired) {
  in_new_netns([] {
    ASSERT_TRUE(
        sh("ip link add eth0 mtu 1400 type veth peer name peer0 && "
           "ip link set eth0 address 02:42:ac:11:00:02 up && ip link set peer0 up && "
           "ip addr add 10.99.0.2/24 dev eth0 && ip route add default via 10.99.0.1"));
    auto nl = NetlinkSocket::open();
    ASSERT_TRUE(nl) << nl.error().what();
    auto scan = nl->scan();
    ASSERT_TRUE(scan) << scan.error().what();
    auto plan = plan_network(*scan);
    ASSERT_TRUE(plan) << plan.error().what();
    // both ends are here in this test; the real namespace has one
    ASSERT_EQ(plan->nics.size(), 2u);
    const NicPlan* eth0 = plan->nics[0].link == "eth0" ? &plan->nics[0] : &plan->nics[1];
    EXPECT_EQ(eth0->mac, "02:42:ac:11:00:02");
    EXPECT_EQ(eth0->mtu, 1400u);
    ASSERT_EQ(eth0->addresses.size(), 1u);
    EXPECT_EQ(eth0->addresses[0].address, "10.99.0.2");
    ASSERT_EQ(plan->routes.size(), 1u);
    EXPECT_EQ(plan->routes[0].gateway, "10.99.0.1");

    Plan one = *plan;
    one.nics = {*eth0};
    auto w = Wiring::create(one, "test-ns");
    ASSERT_TRUE(w) << w.error().what();
    ASSERT_EQ((*w)->nics().size(), 1u);
    EXPECT_TRUE((*w)->nics()[0].tap_fd.valid());
    EXPECT_TRUE(sh("ip -o link show " + eth0->tap + " | grep -q 'mtu 1400'"));
    EXPECT_TRUE(sh("ip -o link show " + eth0->tap + " | grep -q ',UP'"));
    EXPECT_TRUE(sh("tc filter show dev eth0 ingress | grep -q 'Egress Redirect to device " +
                   eth0->tap + "'"));
    EXPECT_TRUE(sh("tc filter show dev " + eth0->tap +
                   " ingress | grep -q 'Egress Redirect to device eth0'"));
    // A second wiring of the same namespace is refused by the plan.
    auto again = nl->scan();
    ASSERT_TRUE(again);
    auto refused = plan_network(*again);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::Unsupported);

    ASSERT_TRUE((*w)->remove());
    EXPECT_FALSE(sh("ip link show " + eth0->tap + " >/dev/null 2>&1"));
    EXPECT_FALSE(sh("tc qdisc show dev eth0 | grep -q ingress"));
    EXPECT_TRUE(sh("ip -4 addr show eth0 | grep -q 10.99.0.2/24")) << "eth0 keeps its address";
  });
}

TEST_F(WiringTest, AFailedWiringLeavesNothing) {
  in_new_netns([] {
    ASSERT_TRUE(
        sh("ip link add eth0 type veth peer name peer0 && ip link set eth0 up && "
           "tc qdisc add dev eth0 ingress"));  // someone else's ingress qdisc
    auto nl = NetlinkSocket::open();
    ASSERT_TRUE(nl);
    auto scan = nl->scan();
    ASSERT_TRUE(scan);
    auto plan = plan_network(*scan);
    ASSERT_TRUE(plan);
    auto w = Wiring::create(*plan, "test-ns");
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().what().find("ingress qdisc"), std::string::npos) << w.error().what();
    EXPECT_FALSE(sh("ip -o link show | grep -q hulltap"));
    EXPECT_TRUE(sh("tc qdisc show dev eth0 | grep -q ingress")) << "not ours: left alone";
  });
}

// Scanned, then deleted before the wiring reached it (a hook or the
// network's owner racing hull): a clear error, and nothing left.
TEST_F(WiringTest, AnInterfaceThatVanishesBeforeItIsWiredIsNamed) {
  in_new_netns([] {
    ASSERT_TRUE(sh("ip link add eth0 type veth peer name peer0 && ip link set eth0 up"));
    auto nl = NetlinkSocket::open();
    ASSERT_TRUE(nl);
    auto scan = nl->scan();
    ASSERT_TRUE(scan);
    auto plan = plan_network(*scan);
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->nics.size(), 1u);
    const int index = plan->nics[0].link_index;
    ASSERT_TRUE(sh("ip link del eth0"));
    auto w = Wiring::create(*plan, "/run/netns/test-ns (net:[1])");
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, Errc::NotFound);
    const std::string want = "interface eth0 (index " + std::to_string(index) +
                             ") vanished from network namespace /run/netns/test-ns (net:[1]) "
                             "before it was wired: ";
    EXPECT_EQ(w.error().what().rfind(want, 0), 0u) << w.error().what();
    EXPECT_NE(w.error().what().find("create the container again"), std::string::npos);
    EXPECT_FALSE(sh("ip -o link show | grep -q hulltap"));
  });
}

// Wired, then deleted while the VM booted: check_links says which, and
// remove() still takes the tap away (the qdisc went with the interface).
TEST_F(WiringTest, AnInterfaceThatVanishesAfterTheWiringIsNamed) {
  in_new_netns([] {
    ASSERT_TRUE(
        sh("ip link add eth0 type veth peer name peer0 && ip link set eth0 up && "
           "ip link add eth1 type veth peer name peer1 && ip link set eth1 up"));
    auto nl = NetlinkSocket::open();
    ASSERT_TRUE(nl);
    auto scan = nl->scan();
    ASSERT_TRUE(scan);
    auto plan = plan_network(*scan);
    ASSERT_TRUE(plan);
    Plan wired = *plan;
    std::erase_if(wired.nics, [](const NicPlan& n) { return n.link.starts_with("peer"); });
    ASSERT_EQ(wired.nics.size(), 2u);
    auto w = Wiring::create(wired, "net:[2], which hull made for the container");
    ASSERT_TRUE(w) << w.error().what();
    EXPECT_TRUE((*w)->check_links());
    ASSERT_TRUE(sh("ip link del eth1"));
    auto st = (*w)->check_links();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::NotFound);
    EXPECT_NE(st.error().what().find("interface eth1 (index "), std::string::npos);
    EXPECT_NE(st.error().what().find(
                  "vanished from network namespace net:[2], which hull made for the container "
                  "while the VM booted"),
              std::string::npos)
        << st.error().what();
    EXPECT_TRUE((*w)->remove());
    EXPECT_FALSE(sh("ip -o link show | grep -q hulltap"));
    EXPECT_FALSE(sh("tc qdisc show dev eth0 | grep -q ingress"));
  });
}

// A new interface with the old one's name is not the one that was wired.
TEST_F(WiringTest, ALinkIsKnownByIndexAndName) {
  in_new_netns([] {
    ASSERT_TRUE(sh("ip link add eth0 type veth peer name peer0"));
    const int index = static_cast<int>(::if_nametoindex("eth0"));
    ASSERT_GT(index, 0);
    EXPECT_TRUE(link_exists(index, "eth0"));
    EXPECT_FALSE(link_exists(index, "eth1"));
    ASSERT_TRUE(sh("ip link del eth0 && ip link add eth0 type veth peer name peer0"));
    EXPECT_FALSE(link_exists(index, "eth0"));
    EXPECT_FALSE(link_exists(0, "eth0"));
  });
}

TEST_F(WiringTest, LeftoversOfADeadMonitorAreRemoved) {
  in_new_netns([] {
    ASSERT_TRUE(
        sh("ip link add eth0 type veth peer name peer0 && ip link set eth0 up && "
           "ip tuntap add hulltap0 mode tap && tc qdisc add dev eth0 ingress && "
           "ip link add other0 type veth peer name other1 && tc qdisc add dev other0 ingress"));
    ASSERT_TRUE(remove_leftovers({"eth0"}));
    EXPECT_FALSE(sh("ip link show hulltap0 >/dev/null 2>&1"));
    EXPECT_FALSE(sh("tc qdisc show dev eth0 | grep -q ingress"));
    EXPECT_TRUE(sh("tc qdisc show dev other0 | grep -q ingress")) << "not a wired interface";
  });
}

TEST(VhostChoice, OpenedIsUsed) {
  auto c = vhost_choice(0, "/dev/vhost-net");
  EXPECT_TRUE(c.use);
  EXPECT_FALSE(c.warn);
  EXPECT_EQ(c.note, "");
}

TEST(VhostChoice, AbsentMeansVhostOffQuietly) {
  for (int e : {ENOENT, ENODEV, ENXIO}) {
    auto c = vhost_choice(e, "/dev/vhost-net");
    EXPECT_FALSE(c.use) << e;
    EXPECT_FALSE(c.warn) << e;
    EXPECT_EQ(c.note.rfind("/dev/vhost-net: ", 0), 0u) << c.note;
    EXPECT_NE(c.note.find("(vhost=off)"), std::string::npos) << c.note;
  }
}

TEST(VhostChoice, RefusedOrBrokenMeansVhostOffWithAWarning) {
  for (int e : {EACCES, EPERM, EMFILE, EIO}) {
    auto c = vhost_choice(e, "/dev/vhost-net");
    EXPECT_FALSE(c.use) << e;
    EXPECT_TRUE(c.warn) << e;
    EXPECT_EQ(c.note.rfind("cannot open /dev/vhost-net: " + std::string(std::strerror(e)), 0), 0u)
        << c.note;
    EXPECT_NE(c.note.find("device cgroup"), std::string::npos) << c.note;
  }
}

// The same choice with real opens: a device that opens gives its fd to the
// NIC, a missing one none, one that fails otherwise none and a warning.
TEST(VhostChoice, OpenVhostNetFollowsTheChoice) {
  TapNic used;
  open_vhost_net("/dev/null", used);
  EXPECT_TRUE(used.vhost_fd.valid());
  EXPECT_EQ(used.vhost_note, "");

  TapNic absent;
  absent.vhost_fd.reset(::dup(0));
  open_vhost_net("/nonexistent/vhost-net", absent);
  EXPECT_FALSE(absent.vhost_fd.valid());
  EXPECT_FALSE(absent.vhost_warn);
  EXPECT_NE(absent.vhost_note.find("vhost=off"), std::string::npos);

  TapNic broken;
  open_vhost_net("/", broken);  // a directory: EISDIR
  EXPECT_FALSE(broken.vhost_fd.valid());
  EXPECT_TRUE(broken.vhost_warn);
}

TEST(HostNetns, InitsOrTheInitialInode) {
  NsId init{4, 100};
  EXPECT_TRUE(is_host_netns(NsId{4, 100}, &init));
  EXPECT_FALSE(is_host_netns(NsId{4, 101}, &init));
  EXPECT_TRUE(is_host_netns(NsId{4, kInitNetnsIno}, nullptr));
  EXPECT_FALSE(is_host_netns(NsId{4, 0xF0000001U}, nullptr));
}

TEST_F(WiringTest, NothingIsDoneInTheHostsNamespace) {
  auto self = current_netns();
  ASSERT_TRUE(self);
  auto host = host_netns();
  if (!is_host_netns(*self, host ? &*host : nullptr)) {
    GTEST_SKIP() << "the test does not run in the host's namespace";
  }
  Plan p;
  p.nics.push_back(NicPlan{"lo", 1, "hulltap9", "02:00:00:00:00:01", 1500, {}});
  auto w = Wiring::create(p, "the host's");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, Errc::Unsupported);
  EXPECT_NE(w.error().what().find("host's own network namespace"), std::string::npos);
  EXPECT_FALSE(sh("ip link show hulltap9 >/dev/null 2>&1"));
  auto left = remove_leftovers({"lo"});
  ASSERT_FALSE(left);
  EXPECT_EQ(left.error().code, Errc::Unsupported);
}

}  // namespace
}  // namespace hull::network
