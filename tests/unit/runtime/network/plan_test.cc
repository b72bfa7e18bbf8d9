#include "runtime/network/plan.h"

#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>

namespace hull::network {
namespace {

Link lo() {
  return Link{1, "lo", "", ARPHRD_LOOPBACK, IFF_UP | IFF_LOOPBACK, 65536, "", 0};
}
Link veth(int index, std::string name, std::string mac = "02:42:ac:11:00:02", uint32_t mtu = 1500) {
  return Link{index, std::move(name), "veth", ARPHRD_ETHER, IFF_UP, mtu, std::move(mac), 0};
}
Address addr(int index, int family, std::string a, uint32_t len, uint8_t scope = RT_SCOPE_UNIVERSE,
             uint32_t flags = 0) {
  return Address{family, index, std::move(a), len, scope, flags};
}
Route route(int oif, std::string dst, uint32_t len, std::string gw, uint8_t proto = RTPROT_BOOT,
            int family = AF_INET) {
  Route r;
  r.family = family;
  r.table = RT_TABLE_MAIN;
  r.protocol = proto;
  r.type = RTN_UNICAST;
  r.scope = gw.empty() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  r.destination = std::move(dst);
  r.dst_len = len;
  r.gateway = std::move(gw);
  r.oif = oif;
  return r;
}

// What docker's default bridge leaves in a container's namespace.
Scan docker_bridge() {
  Scan s;
  s.links = {lo(), veth(12, "eth0")};
  s.addresses = {addr(1, AF_INET, "127.0.0.1", 8, RT_SCOPE_HOST),
                 addr(12, AF_INET, "172.17.0.2", 16),
                 addr(12, AF_INET6, "fe80::42:acff:fe11:2", 64, RT_SCOPE_LINK)};
  s.routes = {route(12, "", 0, "172.17.0.1"), route(12, "172.17.0.0", 16, "", RTPROT_KERNEL)};
  return s;
}

TEST(Plan, DockerBridge) {
  auto p = plan_network(docker_bridge());
  ASSERT_TRUE(p) << p.error().what();
  ASSERT_EQ(p->nics.size(), 1u);
  const NicPlan& n = p->nics[0];
  EXPECT_EQ(n.link, "eth0");
  EXPECT_EQ(n.link_index, 12);
  EXPECT_EQ(n.tap, "hulltap0");
  EXPECT_EQ(n.mac, "02:42:ac:11:00:02");
  EXPECT_EQ(n.mtu, 1500u);
  ASSERT_EQ(n.addresses.size(), 1u);  // not the link-local one
  EXPECT_EQ(n.addresses[0].address, "172.17.0.2");
  EXPECT_EQ(n.addresses[0].prefix_len, 16u);
  ASSERT_EQ(p->routes.size(), 1u);  // not the kernel's connected route
  EXPECT_EQ(p->routes[0].destination, "default");
  EXPECT_EQ(p->routes[0].gateway, "172.17.0.1");
  EXPECT_EQ(p->routes[0].device, "eth0");
}

TEST(Plan, LoopbackOnly) {
  Scan s;
  s.links = {lo()};
  auto p = plan_network(s);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->nics.empty());
  EXPECT_TRUE(p->routes.empty());
}

TEST(Plan, MtuIsCarried) {
  Scan s = docker_bridge();
  s.links[1].mtu = 1400;
  auto p = plan_network(s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nics[0].mtu, 1400u);
}

TEST(Plan, DownAndTunnelDevicesAreLeftOut) {
  Scan s = docker_bridge();
  s.links.push_back(Link{2, "tunl0", "ipip", ARPHRD_TUNNEL, 0, 1480, "", 0});
  s.links.push_back(Link{3, "gretap0", "gretap", ARPHRD_ETHER, 0, 1462, "00:00:00:00:00:00", 0});
  s.links.push_back(Link{4, "br0", "bridge", ARPHRD_ETHER, IFF_UP, 1500, "02:00:00:00:00:09", 0});
  auto p = plan_network(s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nics.size(), 1u);
  EXPECT_EQ(p->notes.size(), 3u);
}

TEST(Plan, PortsOfABridgeAreLeftOut) {
  Scan s = docker_bridge();
  s.links[1].master = 4;
  auto p = plan_network(s);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->nics.empty());
}

TEST(Plan, TapUpIsRefused) {
  Scan s = docker_bridge();
  s.links.push_back(
      Link{20, "hulltap0", "tun", ARPHRD_ETHER, IFF_UP, 1500, "02:00:00:00:00:01", 0});
  auto p = plan_network(s);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::Unsupported);
  EXPECT_NE(p.error().what().find("cannot share a namespace with another VM"), std::string::npos);
}

TEST(Plan, TapNamesAvoidTakenNames) {
  Scan s = docker_bridge();
  s.links.push_back(Link{30, "hulltap0", "dummy", ARPHRD_ETHER, 0, 1500, "02:00:00:00:00:03", 0});
  s.links.push_back(veth(31, "eth1", "02:00:00:00:00:04"));
  auto p = plan_network(s);
  ASSERT_TRUE(p) << p.error().what();
  ASSERT_EQ(p->nics.size(), 2u);
  EXPECT_EQ(p->nics[0].tap, "hulltap1");
  EXPECT_EQ(p->nics[1].tap, "hulltap2");
}

TEST(Plan, MtuOutOfRange) {
  Scan s = docker_bridge();
  s.links[1].mtu = 20;
  auto p = plan_network(s);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().what().find("MTU 20"), std::string::npos);
}

TEST(Plan, TooManyInterfaces) {
  Scan s;
  for (int i = 0; i < 17; ++i) s.links.push_back(veth(10 + i, "eth" + std::to_string(i)));
  auto p = plan_network(s);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().what().find("at most that many NICs"), std::string::npos);
}

TEST(Plan, DuplicateLinks) {
  Scan s = docker_bridge();
  s.links.push_back(veth(12, "eth9"));
  ASSERT_FALSE(plan_network(s));
}

TEST(Plan, OverLimits) {
  Scan s;
  s.routes.resize(20000);
  auto p = plan_network(s);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::GuestProtocol);
}

TEST(Plan, Ipv6AddressesAndRoutes) {
  Scan s = docker_bridge();
  s.addresses.push_back(addr(12, AF_INET6, "2001:db8::2", 64));
  s.addresses.push_back(addr(12, AF_INET6, "2001:db8::3", 64, RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE));
  s.routes.push_back(route(12, "", 0, "2001:db8::1", RTPROT_BOOT, AF_INET6));
  s.routes.push_back(route(12, "ff00::", 8, "", RTPROT_BOOT, AF_INET6));
  s.routes.push_back(route(12, "fe80::", 64, "", RTPROT_BOOT, AF_INET6));
  auto p = plan_network(s);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->nics[0].addresses.size(), 2u);
  EXPECT_EQ(p->nics[0].addresses[1].address, "2001:db8::2");
  ASSERT_EQ(p->routes.size(), 2u);
  EXPECT_EQ(p->routes[1].destination, "::/0");
  EXPECT_EQ(p->routes[1].family, AF_INET6);
}

TEST(Plan, OnLinkRoutesComeFirst) {
  Scan s = docker_bridge();
  s.routes = {route(12, "", 0, "10.9.0.1"), route(12, "10.9.0.1", 32, ""),
              route(12, "10.8.0.0", 16, "10.9.0.1")};
  auto p = plan_network(s);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->routes.size(), 3u);
  EXPECT_EQ(p->routes[0].destination, "10.9.0.1/32");
  EXPECT_EQ(p->routes[1].destination, "default");
  EXPECT_EQ(p->routes[2].destination, "10.8.0.0/16");
}

TEST(Plan, OtherTablesMultipathAndUnwiredLinksAreLeftOut) {
  Scan s = docker_bridge();
  Route local = route(12, "172.17.0.2", 32, "");
  local.table = RT_TABLE_LOCAL;
  local.type = RTN_LOCAL;
  Route mp = route(12, "10.1.0.0", 16, "");
  mp.multipath = true;
  s.routes.push_back(local);
  s.routes.push_back(mp);
  s.routes.push_back(route(99, "10.2.0.0", 16, ""));
  auto p = plan_network(s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->routes.size(), 1u);
  EXPECT_EQ(p->notes.size(), 1u);
}

TEST(Plan, PermanentNeighbours) {
  Scan s = docker_bridge();
  s.neighbours = {Neighbour{AF_INET, 12, "172.17.0.9", "02:00:00:00:00:09", NUD_PERMANENT},
                  Neighbour{AF_INET, 12, "172.17.0.1", "02:00:00:00:00:01", NUD_REACHABLE}};
  auto p = plan_network(s);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->neighbours.size(), 1u);
  EXPECT_EQ(p->neighbours[0].address, "172.17.0.9");
  EXPECT_EQ(p->neighbours[0].device, "eth0");
}

TEST(Plan, OtherKindsAreWired) {
  Scan s;
  s.links = {lo(), Link{5, "eth0", "macvlan", ARPHRD_ETHER, IFF_UP, 9000, "02:00:00:00:00:05", 0},
             Link{6, "ens3", "", ARPHRD_ETHER, IFF_UP, 1500, "02:00:00:00:00:06", 0}};
  auto p = plan_network(s);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->nics.size(), 2u);
  EXPECT_EQ(p->nics[0].mtu, 9000u);
}

}  // namespace
}  // namespace hull::network
