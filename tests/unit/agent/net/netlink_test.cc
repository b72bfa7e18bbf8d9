#include "agent/net/netlink.h"

#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include <cstring>

#include "tests/unit/agent/net/test_ip.h"

namespace hull::agent::net {
namespace {

template <class T>
T header_of(const std::vector<uint8_t>& msg) {
  T h{};
  std::memcpy(&h, msg.data() + sizeof(nlmsghdr), sizeof h);
  return h;
}

NlMessage only(const std::vector<uint8_t>& buf) {
  auto msgs = split_messages(buf);
  EXPECT_TRUE(msgs) << msgs.error().what();
  EXPECT_EQ(msgs->size(), 1u);
  return msgs->at(0);
}

// A link message as the kernel sends it (built with the same builder).
std::vector<uint8_t> link_reply(int index, const char* name, uint32_t mtu,
                                std::vector<uint8_t> mac) {
  NlBuilder b(RTM_NEWLINK, NLM_F_MULTI, 7);
  ifinfomsg h{};
  h.ifi_index = index;
  h.ifi_type = ARPHRD_ETHER;
  h.ifi_flags = IFF_UP | IFF_BROADCAST;
  b.header(h);
  b.attr_str(IFLA_IFNAME, name);
  b.attr_u32(IFLA_MTU, mtu);
  b.attr(IFLA_ADDRESS, mac);
  return std::move(b).finish();
}

TEST(Netlink, BuilderSetsLengthAndPadsAttributes) {
  NlBuilder b(RTM_NEWLINK, NLM_F_ACK, 42);
  ifinfomsg h{};
  h.ifi_index = 3;
  b.header(h);
  b.attr_str(IFLA_IFNAME, "eth0");  // 5 bytes with NUL: padded to 8
  auto msg = std::move(b).finish();
  nlmsghdr nh{};
  std::memcpy(&nh, msg.data(), sizeof nh);
  EXPECT_EQ(nh.nlmsg_len, msg.size());
  EXPECT_EQ(msg.size(), sizeof(nlmsghdr) + sizeof(ifinfomsg) + 4 + 8);
  EXPECT_EQ(nh.nlmsg_seq, 42u);
  EXPECT_EQ(nh.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  auto attrs = parse_attrs(only(msg).payload, sizeof(ifinfomsg));
  ASSERT_TRUE(attrs);
  ASSERT_EQ(attrs->size(), 1u);
  EXPECT_EQ(attrs->at(0).type, IFLA_IFNAME);
  EXPECT_EQ(attrs->at(0).data.size(), 5u);
}

TEST(Netlink, LinkRoundTrip) {
  auto buf = link_reply(2, "eth0", 1450, {0x02, 0x42, 0xac, 0x11, 0, 2});
  auto l = parse_link(only(buf));
  ASSERT_TRUE(l) << l.error().what();
  EXPECT_EQ(l->index, 2);
  EXPECT_EQ(l->name, "eth0");
  EXPECT_EQ(l->mtu, 1450u);
  EXPECT_EQ(format_mac(l->mac), "02:42:ac:11:00:02");
  EXPECT_EQ(l->type, ARPHRD_ETHER);
  EXPECT_TRUE(l->flags & IFF_UP);
}

TEST(Netlink, SplitsSeveralMessagesInOneDatagram) {
  auto a = link_reply(1, "lo", 65536, {0, 0, 0, 0, 0, 0});
  auto b = link_reply(2, "eth0", 1500, {2, 0, 0, 0, 0, 1});
  a.insert(a.end(), b.begin(), b.end());
  auto msgs = split_messages(a);
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ(parse_link(msgs->at(1))->name, "eth0");
}

TEST(Netlink, RefusesLengthsThatDoNotFit) {
  auto buf = link_reply(2, "eth0", 1500, {2, 0, 0, 0, 0, 1});
  // A message header claiming more than the buffer.
  auto longer = buf;
  uint32_t len = static_cast<uint32_t>(buf.size() + 4);
  std::memcpy(longer.data(), &len, 4);
  auto r = split_messages(longer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Invalid);
  EXPECT_NE(r.error().what().find("says " + std::to_string(len) + " bytes"), std::string::npos);
  // Shorter than a header.
  len = 8;
  std::memcpy(longer.data(), &len, 4);
  EXPECT_FALSE(split_messages(longer));
  // Trailing bytes.
  auto trailing = buf;
  trailing.insert(trailing.end(), {1, 2, 3});
  EXPECT_FALSE(split_messages(trailing));
  // An attribute that runs past its message.
  auto attr = buf;
  size_t first_attr = sizeof(nlmsghdr) + sizeof(ifinfomsg);
  uint16_t alen = 200;
  std::memcpy(attr.data() + first_attr, &alen, 2);
  auto bad_attr = parse_link(only(attr));
  ASSERT_FALSE(bad_attr);
  EXPECT_NE(bad_attr.error().what().find("says 200 bytes"), std::string::npos);
  // A payload shorter than the family header.
  NlBuilder tiny(RTM_NEWLINK, 0, 1);
  uint32_t four = 4;
  tiny.header(four);
  auto short_hdr = parse_link(only(std::move(tiny).finish()));
  ASSERT_FALSE(short_hdr);
  EXPECT_NE(short_hdr.error().what().find("shorter than its 16-byte header"), std::string::npos);
}

TEST(Netlink, RefusesAttributesOfTheWrongSize) {
  NlBuilder b(RTM_NEWLINK, 0, 1);
  ifinfomsg h{};
  b.header(h);
  uint8_t two[2] = {1, 2};
  b.attr(IFLA_MTU, two);
  auto r = parse_link(only(std::move(b).finish()));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("IFLA_MTU has 2 bytes, want 4"), std::string::npos);

  NlBuilder n(RTM_NEWLINK, 0, 1);
  n.header(h);
  n.attr_str(IFLA_IFNAME, "a-name-that-is-too-long");
  EXPECT_FALSE(parse_link(only(std::move(n).finish())));

  NlBuilder m(RTM_NEWLINK, 0, 1);
  m.header(h);
  m.attr(IFLA_ADDRESS, std::vector<uint8_t>(33, 1));
  EXPECT_FALSE(parse_link(only(std::move(m).finish())));
}

TEST(Netlink, WrongMessageTypeIsRefused) {
  auto buf = link_reply(2, "eth0", 1500, {2, 0, 0, 0, 0, 1});
  auto r = parse_route(only(buf));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("message type 16, want 24"), std::string::npos);
}

TEST(Netlink, ErrorsAndAcks) {
  NlBuilder ack(NLMSG_ERROR, 0, 3);
  int zero = 0;
  ack.header(zero);
  EXPECT_EQ(*parse_error(only(std::move(ack).finish())), 0);
  NlBuilder e(NLMSG_ERROR, 0, 3);
  int eexist = -EEXIST;
  e.header(eexist);
  EXPECT_EQ(*parse_error(only(std::move(e).finish())), EEXIST);
  NlBuilder weird(NLMSG_ERROR, 0, 3);
  int positive = 5;
  weird.header(positive);
  EXPECT_FALSE(parse_error(only(std::move(weird).finish())));
  NlBuilder empty(NLMSG_ERROR, 0, 3);
  EXPECT_FALSE(parse_error(only(std::move(empty).finish())));
  EXPECT_FALSE(parse_error(only(link_reply(1, "lo", 1, {}))));
}

TEST(Netlink, AddressRequestAndReply) {
  Prefix p{ip("172.17.0.2"), 16};
  auto msg = new_addr_request(5, p, 9);
  auto h = header_of<ifaddrmsg>(msg);
  EXPECT_EQ(h.ifa_family, AF_INET);
  EXPECT_EQ(h.ifa_prefixlen, 16);
  EXPECT_EQ(h.ifa_index, 5u);
  // Parsed back as if the kernel had sent it (same layout).
  auto m = only(msg);
  m.type = RTM_NEWADDR;
  auto a = parse_addr(m);
  ASSERT_TRUE(a) << a.error().what();
  EXPECT_EQ(format_ip(a->address), "172.17.0.2");
  auto attrs = parse_attrs(m.payload, sizeof(ifaddrmsg));
  bool brd = false;
  for (const Attr& x : *attrs) {
    if (x.type == IFA_BROADCAST)
      brd = format_ip(*ip_from_bytes(AF_INET, x.data)) == "172.17.255.255";
  }
  EXPECT_TRUE(brd);

  auto v6buf = new_addr_request(5, Prefix{ip("fd00::2"), 64}, 10);
  auto v6 = only(v6buf);
  v6.type = RTM_NEWADDR;
  auto a6 = parse_addr(v6);
  ASSERT_TRUE(a6);
  EXPECT_TRUE(a6->flags & IFA_F_NODAD);
  EXPECT_EQ(a6->prefix_len, 64);

  nlmsghdr dh{};
  auto d = del_addr_request(5, p, 11);
  std::memcpy(&dh, d.data(), sizeof dh);
  EXPECT_EQ(dh.nlmsg_type, RTM_DELADDR);
}

TEST(Netlink, AddressWithBadPrefixOrFamilyIsRefused) {
  NlBuilder b(RTM_NEWADDR, 0, 1);
  ifaddrmsg h{};
  h.ifa_family = AF_INET;
  h.ifa_prefixlen = 33;
  b.header(h);
  b.attr_ip(IFA_ADDRESS, ip("10.0.0.1"));
  EXPECT_FALSE(parse_addr(only(std::move(b).finish())));
  NlBuilder c(RTM_NEWADDR, 0, 1);
  h.ifa_prefixlen = 8;
  c.header(h);
  c.attr_ip(IFA_ADDRESS, ip("fd00::1"));  // 16 bytes in an AF_INET message
  EXPECT_FALSE(parse_addr(only(std::move(c).finish())));
  NlBuilder none(RTM_NEWADDR, 0, 1);
  none.header(h);
  EXPECT_FALSE(parse_addr(only(std::move(none).finish())));
}

TEST(Netlink, RouteRequestCarriesEverything) {
  RouteSpec r;
  r.dst = Prefix{ip("10.2.0.0"), 16};
  r.gateway = ip("10.1.0.1");
  r.prefsrc = ip("10.1.0.5");
  r.oif = 4;
  r.priority = 100;
  r.mtu = 1400;
  r.table = 1000;
  r.onlink = true;
  auto rbuf = new_route_request(r, 1);
  auto m = only(rbuf);
  m.type = RTM_NEWROUTE;
  auto back = parse_route(m);
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(back->family, AF_INET);
  EXPECT_EQ(back->dst_len, 16);
  EXPECT_EQ(format_ip(back->dst), "10.2.0.0");
  EXPECT_EQ(format_ip(back->gateway), "10.1.0.1");
  EXPECT_EQ(format_ip(back->prefsrc), "10.1.0.5");
  EXPECT_EQ(back->oif, 4);
  EXPECT_EQ(back->priority, 100u);
  EXPECT_EQ(back->mtu, 1400u);
  EXPECT_EQ(back->table, 1000u);
  EXPECT_TRUE(back->flags & RTNH_F_ONLINK);
  EXPECT_EQ(back->protocol, RTPROT_BOOT);
  EXPECT_EQ(back->type, RTN_UNICAST);

  RouteSpec d6;
  d6.dst = Prefix{IpAddr{AF_INET6, {}}, 0};
  d6.gateway = ip("fd00::1");
  auto d6buf = new_route_request(d6, 2);
  auto m6 = only(d6buf);
  m6.type = RTM_NEWROUTE;
  auto b6 = parse_route(m6);
  ASSERT_TRUE(b6);
  EXPECT_EQ(b6->family, AF_INET6);
  EXPECT_EQ(b6->dst_len, 0);
  EXPECT_EQ(b6->dst.family, 0);  // no RTA_DST for a default route
  EXPECT_EQ(b6->table, static_cast<uint32_t>(RT_TABLE_MAIN));
}

TEST(Netlink, DeleteRouteNamesTheRouteTheKernelHas) {
  RouteInfo r;
  r.family = AF_INET;
  r.dst_len = 24;
  r.dst = ip("10.9.0.0");
  r.table = RT_TABLE_MAIN;
  r.protocol = RTPROT_BOOT;
  r.type = RTN_UNICAST;
  r.oif = 2;
  r.priority = 5;
  auto msg = del_route_request(r, 3);
  auto h = header_of<rtmsg>(msg);
  EXPECT_EQ(h.rtm_dst_len, 24);
  EXPECT_EQ(h.rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(h.rtm_scope, RT_SCOPE_NOWHERE);
  auto m = only(msg);
  m.type = RTM_NEWROUTE;
  auto back = parse_route(m);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->priority, 5u);
  EXPECT_EQ(back->oif, 2);
}

TEST(Netlink, RouteWithPrefixButNoDestinationIsRefused) {
  NlBuilder b(RTM_NEWROUTE, 0, 1);
  rtmsg h{};
  h.rtm_family = AF_INET;
  h.rtm_dst_len = 24;
  b.header(h);
  EXPECT_FALSE(parse_route(only(std::move(b).finish())));
  NlBuilder c(RTM_NEWROUTE, 0, 1);
  h.rtm_dst_len = 40;
  c.header(h);
  EXPECT_FALSE(parse_route(only(std::move(c).finish())));
  NlBuilder m(RTM_NEWROUTE, 0, 1);
  h.rtm_dst_len = 0;
  m.header(h);
  size_t mark = m.begin_nest(RTA_METRICS);
  uint8_t one = 1;
  m.attr(RTAX_MTU, {&one, 1});
  m.end_nest(mark);
  auto r = parse_route(only(std::move(m).finish()));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("RTAX_MTU has 1 bytes"), std::string::npos);
}

TEST(Netlink, NeighbourRoundTrip) {
  NeighSpec n;
  n.index = 3;
  n.dst = ip("172.17.0.1");
  n.lladdr = {2, 0x42, 0, 0, 0, 1};
  auto msg = new_neigh_request(n, 1);
  auto h = header_of<ndmsg>(msg);
  EXPECT_EQ(h.ndm_state, NUD_PERMANENT);
  EXPECT_EQ(h.ndm_family, AF_INET);
  auto m = only(msg);
  m.type = RTM_NEWNEIGH;
  auto back = parse_neigh(m);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->index, 3);
  EXPECT_EQ(format_ip(back->dst), "172.17.0.1");
  EXPECT_EQ(format_mac(back->lladdr), "02:42:00:00:00:01");
}

TEST(Netlink, LinkChangeSetsOnlyTheAskedBits) {
  LinkChange c;
  c.index = 2;
  c.flags = IFF_UP | IFF_NOARP;
  c.change = IFF_UP;
  c.name = "eth1";
  c.mtu = 9000;
  auto msg = set_link_request(c, 1);
  auto h = header_of<ifinfomsg>(msg);
  EXPECT_EQ(h.ifi_flags, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(h.ifi_change, static_cast<unsigned>(IFF_UP));
  auto m = only(msg);
  m.type = RTM_NEWLINK;
  auto l = parse_link(m);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->name, "eth1");
  EXPECT_EQ(l->mtu, 9000u);
}

TEST(Netlink, DumpRequestHasTheFamily) {
  auto msg = dump_request(RTM_GETROUTE, AF_INET6, 5);
  nlmsghdr nh{};
  std::memcpy(&nh, msg.data(), sizeof nh);
  EXPECT_EQ(nh.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(header_of<rtmsg>(msg).rtm_family, AF_INET6);
}

}  // namespace
}  // namespace hull::agent::net
