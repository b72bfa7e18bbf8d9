#include "agent/net/net_config.h"

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>

#include <cstdlib>
#include <thread>

#include "tests/unit/agent/net/test_ip.h"

namespace hull::agent::net {
namespace {

const std::map<std::string, int> kIndexes{{"lo", 1}, {"eth0", 2}};

Route route(const char* dst, const char* gw = "", const char* dev = "eth0") {
  Route r;
  r.set_destination(dst);
  r.set_gateway(gw);
  r.set_device(dev);
  return r;
}

TEST(NetConfig, DefaultRouteViaGateway) {
  auto s = to_route_spec(route("default", "172.17.0.1"), kIndexes);
  ASSERT_TRUE(s) << s.error().what();
  EXPECT_EQ(s->dst.addr.family, AF_INET);
  EXPECT_EQ(s->dst.len, 0);
  EXPECT_EQ(format_ip(s->gateway), "172.17.0.1");
  EXPECT_EQ(s->oif, 2);
  EXPECT_EQ(s->scope, RT_SCOPE_UNIVERSE);
}

TEST(NetConfig, EmptyDestinationIsDefault) {
  auto s = to_route_spec(route("", "172.17.0.1"), kIndexes);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->dst.len, 0);
}

TEST(NetConfig, LinkRouteGetsLinkScopeLikeIp) {
  auto s = to_route_spec(route("172.17.0.0/16"), kIndexes);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->scope, RT_SCOPE_LINK);
  Route host = route("10.0.0.1", "", "eth0");
  host.set_scope(RT_SCOPE_HOST);
  EXPECT_EQ(to_route_spec(host, kIndexes)->scope, RT_SCOPE_HOST);
}

TEST(NetConfig, FamilyFromFieldOrAddresses) {
  Route d6 = route("default", "fd00::1");
  auto s = to_route_spec(d6, kIndexes);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->dst.addr.family, AF_INET6);
  Route explicit6 = route("default");
  explicit6.set_family(6);
  EXPECT_EQ(to_route_spec(explicit6, kIndexes)->dst.addr.family, AF_INET6);
  Route src6 = route("default");
  src6.set_source("fd00::5");
  EXPECT_EQ(to_route_spec(src6, kIndexes)->dst.addr.family, AF_INET6);
}

TEST(NetConfig, MixedFamiliesAreRefused) {
  auto a = to_route_spec(route("10.0.0.0/8", "fd00::1"), kIndexes);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::Invalid);
  EXPECT_NE(a.error().what().find("gateway \"fd00::1\" is not of the route's address family"),
            std::string::npos)
      << a.error().what();
  Route r = route("10.0.0.0/8");
  r.set_family(6);
  EXPECT_FALSE(to_route_spec(r, kIndexes));
  Route f = route("10.0.0.0/8");
  f.set_family(5);
  EXPECT_FALSE(to_route_spec(f, kIndexes));
}

TEST(NetConfig, UnknownDeviceAndOutOfRangeFields) {
  auto r = to_route_spec(route("default", "10.0.0.1", "eth9"), kIndexes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_NE(r.error().what().find("no interface named \"eth9\""), std::string::npos);
  Route s = route("default", "10.0.0.1");
  s.set_scope(300);
  EXPECT_FALSE(to_route_spec(s, kIndexes));
  Route t = route("default", "10.0.0.1");
  t.set_type(256);
  EXPECT_FALSE(to_route_spec(t, kIndexes));
  Route p = route("default", "10.0.0.1");
  p.set_protocol(1000);
  EXPECT_FALSE(to_route_spec(p, kIndexes));
}

TEST(NetConfig, MetricMtuTableOnlink) {
  Route r = route("default", "192.168.0.1");
  r.set_metric(50);
  r.set_mtu(1400);
  r.set_table(100);
  r.set_onlink(true);
  auto s = to_route_spec(r, kIndexes);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->priority, 50u);
  EXPECT_EQ(s->mtu, 1400u);
  EXPECT_EQ(s->table, 100u);
  EXPECT_TRUE(s->onlink);
}

TEST(NetConfig, RouteToProto) {
  RouteInfo r;
  r.family = AF_INET6;
  r.dst_len = 0;
  r.gateway = ip("fd00::1");
  r.oif = 2;
  r.table = RT_TABLE_MAIN;
  r.priority = 1024;
  r.protocol = RTPROT_BOOT;
  r.type = RTN_UNICAST;
  r.flags = RTNH_F_ONLINK;
  Route p = to_proto_route(r, {{2, "eth0"}});
  EXPECT_EQ(p.destination(), "default");
  EXPECT_EQ(p.family(), 6u);
  EXPECT_EQ(p.gateway(), "fd00::1");
  EXPECT_EQ(p.device(), "eth0");
  EXPECT_EQ(p.metric(), 1024u);
  EXPECT_TRUE(p.onlink());
  // And back: the same route.
  auto s = to_route_spec(p, kIndexes);
  ASSERT_TRUE(s);
  EXPECT_TRUE(same_route(r, *s));
  r.priority = 1;
  EXPECT_FALSE(same_route(r, *s));
}

TEST(NetConfig, ManagedAddressesAndRoutes) {
  AddrInfo ll;
  ll.address = ip("fe80::1");
  EXPECT_FALSE(managed_address(ll));
  AddrInfo g;
  g.address = ip("fd00::1");
  EXPECT_TRUE(managed_address(g));
  g.address = ip("10.0.0.1");
  EXPECT_TRUE(managed_address(g));
  RouteInfo k;
  k.table = RT_TABLE_MAIN;
  k.protocol = RTPROT_KERNEL;
  EXPECT_FALSE(managed_route(k));
  k.protocol = RTPROT_BOOT;
  EXPECT_TRUE(managed_route(k));
  k.table = RT_TABLE_LOCAL;
  EXPECT_FALSE(managed_route(k));
}

TEST(NetConfig, InterfaceAndNeighbourToProto) {
  LinkInfo l;
  l.index = 2;
  l.name = "eth0";
  l.mac = {2, 0x42, 0xac, 0x11, 0, 2};
  l.mtu = 1500;
  l.flags = IFF_UP | IFF_BROADCAST;
  AddrInfo a;
  a.index = 2;
  a.address = ip("172.17.0.2");
  a.prefix_len = 16;
  AddrInfo other;
  other.index = 3;
  other.address = ip("10.0.0.1");
  Interface i = to_proto_interface(l, {a, other});
  EXPECT_EQ(i.name(), "eth0");
  EXPECT_EQ(i.mac(), "02:42:ac:11:00:02");
  EXPECT_TRUE(i.up());
  EXPECT_EQ(i.index(), 2u);
  ASSERT_EQ(i.addresses_size(), 1);
  EXPECT_EQ(i.addresses(0).address(), "172.17.0.2");
  EXPECT_EQ(i.addresses(0).prefix_len(), 16u);

  Neighbor n;
  n.set_address("172.17.0.1");
  n.set_mac("02:42:00:00:00:01");
  n.set_device("eth0");
  auto s = to_neigh_spec(n, kIndexes);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->state, 0);
  n.set_device("nope");
  EXPECT_FALSE(to_neigh_spec(n, kIndexes));
  n.set_device("eth0");
  n.set_mac("zz");
  EXPECT_FALSE(to_neigh_spec(n, kIndexes));
  n.set_mac("02:42:00:00:00:01");
  n.set_state(70000);
  EXPECT_FALSE(to_neigh_spec(n, kIndexes));
}

TEST(NetConfig, ParkingName) {
  EXPECT_EQ(parking_name(12), "hullp12");
  EXPECT_LT(parking_name(2147483647).size(), static_cast<size_t>(IFNAMSIZ));
}

// --- the real kernel, in a network namespace of the test's own ---

// Runs body in a thread that has unshared its network namespace (a new one
// with only lo), so nothing of the host's own namespace is touched. `ip`
// started from that thread runs in the same namespace. Skips without root.
template <class F>
void in_private_netns(F body) {
  bool ok = false;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) return;
    ok = true;
    body();
  });
  t.join();
  if (!ok) GTEST_SKIP() << "cannot unshare a network namespace (needs root)";
}

int sh(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str());
}

const Interface* find(const Interfaces& all, const std::string& name) {
  for (const Interface& i : all.interfaces()) {
    if (i.name() == name) return &i;
  }
  return nullptr;
}

TEST(NetConfigKernel, ConfiguresADummyLinkFoundByMac) {
  in_private_netns([] {
    // Two links as a VM would have them at boot: named eth0/eth1, down.
    // veth pairs (the peers p0/p1 up, so the links have carrier).
    if (sh("ip link add eth0 address 02:00:00:00:00:0a type veth peer name p0") != 0 ||
        sh("ip link add eth1 address 02:00:00:00:00:0b type veth peer name p1") != 0 ||
        sh("ip link set p0 up") != 0 || sh("ip link set p1 up") != 0) {
      GTEST_SKIP() << "cannot create veth links";
    }
    // The host says: the NIC with MAC ...:0b is eth0 (names swap).
    Interface want;
    want.set_mac("02:00:00:00:00:0B");
    want.set_name("eth0");
    want.set_mtu(1400);
    want.set_up(true);
    auto* a4 = want.add_addresses();
    a4->set_address("172.18.0.2");
    a4->set_prefix_len(16);
    auto* a6 = want.add_addresses();
    a6->set_address("fd00:1::2");
    a6->set_prefix_len(64);
    auto got = update_interface(want);
    ASSERT_TRUE(got) << got.error().what();
    EXPECT_EQ(got->name(), "eth0");
    EXPECT_EQ(got->mac(), "02:00:00:00:00:0b");
    EXPECT_EQ(got->mtu(), 1400u);
    EXPECT_TRUE(got->up());

    auto all = list_interfaces();
    ASSERT_TRUE(all) << all.error().what();
    const Interface* eth0 = find(*all, "eth0");
    ASSERT_NE(eth0, nullptr);
    bool v4 = false, v6 = false;
    for (const auto& a : eth0->addresses()) {
      v4 |= a.address() == "172.18.0.2" && a.prefix_len() == 16;
      v6 |= a.address() == "fd00:1::2" && a.prefix_len() == 64;
    }
    EXPECT_TRUE(v4 && v6) << eth0->DebugString();
    // The link that had the name was parked, not lost.
    int named_other = 0;
    for (const Interface& i : all->interfaces()) named_other += i.mac() == "02:00:00:00:00:0a";
    EXPECT_EQ(named_other, 1);

    // Again with one address fewer: the other one goes.
    want.mutable_addresses()->RemoveLast();
    auto again = update_interface(want);
    ASSERT_TRUE(again) << again.error().what();
    for (const auto& a : again->addresses()) EXPECT_NE(a.address(), "fd00:1::2");

    // Routes: link route, default via gateway, a v6 default, metric and MTU.
    Routes routes;
    *routes.add_routes() = route("10.10.0.0/16", "", "eth0");
    Route def = route("default", "172.18.0.1");
    def.set_metric(10);
    def.set_mtu(1300);
    *routes.add_routes() = def;
    auto* a6again = want.add_addresses();
    a6again->set_address("fd00:1::2");
    a6again->set_prefix_len(64);
    ASSERT_TRUE(update_interface(want));
    *routes.add_routes() = route("default", "fd00:1::1");
    auto set = update_routes(routes);
    ASSERT_TRUE(set) << set.error().what();
    bool def4 = false, def6 = false, link = false, kernel_prefix = false;
    for (const Route& r : set->routes()) {
      if (r.destination() == "default" && r.family() == 4) {
        def4 = r.gateway() == "172.18.0.1" && r.metric() == 10 && r.mtu() == 1300 &&
               r.device() == "eth0";
      }
      def6 |= r.destination() == "default" && r.family() == 6 && r.gateway() == "fd00:1::1";
      link |= r.destination() == "10.10.0.0/16" && r.scope() == RT_SCOPE_LINK;
      kernel_prefix |= r.destination() == "172.18.0.0/16" && r.protocol() == RTPROT_KERNEL;
    }
    EXPECT_TRUE(def4 && def6 && link && kernel_prefix) << set->DebugString();

    // Replace: only the v4 default stays; the others go, the kernel's prefix route stays.
    Routes fewer;
    *fewer.add_routes() = def;
    auto after = update_routes(fewer);
    ASSERT_TRUE(after) << after.error().what();
    for (const Route& r : after->routes()) {
      EXPECT_NE(r.destination(), "10.10.0.0/16");
      EXPECT_FALSE(r.destination() == "default" && r.family() == 6) << r.DebugString();
    }

    // A gateway outside every prefix needs onlink.
    Routes far;
    *far.add_routes() = route("default", "192.0.2.1");
    EXPECT_FALSE(update_routes(far));
    far.mutable_routes(0)->set_onlink(true);
    EXPECT_TRUE(update_routes(far)) << "onlink gateway";

    // Neighbours.
    Neighbors ns;
    Neighbor* n = ns.add_neighbors();
    n->set_address("172.18.0.1");
    n->set_mac("02:42:00:00:00:01");
    n->set_device("eth0");
    Neighbor* n6 = ns.add_neighbors();
    n6->set_address("fd00:1::1");
    n6->set_mac("02:42:00:00:00:01");
    n6->set_device("eth0");
    ASSERT_TRUE(add_neighbors(ns));
    auto listed = list_neighbors();
    ASSERT_TRUE(listed) << listed.error().what();
    int perm = 0;
    for (const Neighbor& x : listed->neighbors()) {
      perm += (x.address() == "172.18.0.1" || x.address() == "fd00:1::1") &&
              x.mac() == "02:42:00:00:00:01" && x.state() == NUD_PERMANENT;
    }
    EXPECT_EQ(perm, 2) << listed->DebugString();

    // Errors name the input.
    Interface missing;
    missing.set_mac("02:00:00:00:00:99");
    auto nf = update_interface(missing);
    ASSERT_FALSE(nf);
    EXPECT_EQ(nf.error().code, Errc::NotFound);
    EXPECT_NE(nf.error().what().find("02:00:00:00:00:0b"), std::string::npos) << nf.error().what();
    Interface badname = want;
    badname.set_name("a/b");
    EXPECT_EQ(update_interface(badname).error().code, Errc::Invalid);
    Interface badprefix = want;
    badprefix.mutable_addresses(0)->set_prefix_len(0);
    EXPECT_EQ(update_interface(badprefix).error().code, Errc::Invalid);
  });
}

}  // namespace
}  // namespace hull::agent::net
