#include "runtime/network/netlink_parse.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>

#include <cstring>

#include "runtime/network/netlink.h"

namespace hull::network {
namespace {

// Builds datagrams of kernel-style messages for the parser.
class Datagram {
 public:
  template <class Header>
  Header* begin(uint16_t type, uint32_t seq = 7) {
    cur_ = std::vector<uint64_t>(1024);
    nlh_ = mnl_nlmsg_put_header(cur_.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_seq = seq;
    return static_cast<Header*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(Header)));
  }
  nlmsghdr* nlh() { return nlh_; }
  void end() {
    const auto* p = reinterpret_cast<const std::byte*>(cur_.data());
    bytes_.insert(bytes_.end(), p, p + MNL_ALIGN(nlh_->nlmsg_len));
  }
  void done(uint32_t seq = 7) {
    begin<int>(NLMSG_DONE, seq);
    end();
  }
  std::vector<std::byte>& bytes() { return bytes_; }

 private:
  std::vector<uint64_t> cur_;
  nlmsghdr* nlh_ = nullptr;
  std::vector<std::byte> bytes_;
};

void put_ip(nlmsghdr* nlh, uint16_t type, int family, const char* s) {
  unsigned char buf[16];
  ASSERT_EQ(inet_pton(family, s, buf), 1);
  mnl_attr_put(nlh, type, family == AF_INET ? 4 : 16, buf);
}

void add_veth(Datagram& d, int index, const char* name) {
  auto* ifi = d.begin<ifinfomsg>(RTM_NEWLINK);
  ifi->ifi_index = index;
  ifi->ifi_type = ARPHRD_ETHER;
  ifi->ifi_flags = IFF_UP | IFF_BROADCAST;
  mnl_attr_put_strz(d.nlh(), IFLA_IFNAME, name);
  mnl_attr_put_u32(d.nlh(), IFLA_MTU, 1450);
  uint8_t mac[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
  mnl_attr_put(d.nlh(), IFLA_ADDRESS, 6, mac);
  nlattr* info = mnl_attr_nest_start(d.nlh(), IFLA_LINKINFO);
  mnl_attr_put_strz(d.nlh(), IFLA_INFO_KIND, "veth");
  mnl_attr_nest_end(d.nlh(), info);
  d.end();
}

TEST(NetlinkParse, LinkWithKindMacMtu) {
  Datagram d;
  add_veth(d, 5, "eth0");
  d.done();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_TRUE(b) << b.error().what();
  ASSERT_EQ(b->links.size(), 1u);
  const Link& l = b->links[0];
  EXPECT_EQ(l.index, 5);
  EXPECT_EQ(l.name, "eth0");
  EXPECT_EQ(l.kind, "veth");
  EXPECT_EQ(l.mtu, 1450u);
  EXPECT_EQ(l.mac, "02:42:ac:11:00:02");
  EXPECT_EQ(l.type, ARPHRD_ETHER);
  EXPECT_TRUE(b->done);
}

TEST(NetlinkParse, AddressPrefersLocal) {
  Datagram d;
  auto* ifa = d.begin<ifaddrmsg>(RTM_NEWADDR);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 16;
  ifa->ifa_index = 5;
  put_ip(d.nlh(), IFA_ADDRESS, AF_INET, "10.0.0.1");
  put_ip(d.nlh(), IFA_LOCAL, AF_INET, "172.17.0.2");
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_TRUE(b) << b.error().what();
  ASSERT_EQ(b->addresses.size(), 1u);
  EXPECT_EQ(b->addresses[0].address, "172.17.0.2");
  EXPECT_EQ(b->addresses[0].prefix_len, 16u);
  EXPECT_FALSE(b->done);
}

TEST(NetlinkParse, RouteWithGatewayMetricMtu) {
  Datagram d;
  auto* rtm = d.begin<rtmsg>(RTM_NEWROUTE);
  rtm->rtm_family = AF_INET6;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_type = RTN_UNICAST;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_dst_len = 64;
  put_ip(d.nlh(), RTA_DST, AF_INET6, "2001:db8::");
  put_ip(d.nlh(), RTA_GATEWAY, AF_INET6, "fe80::1");
  mnl_attr_put_u32(d.nlh(), RTA_OIF, 5);
  mnl_attr_put_u32(d.nlh(), RTA_PRIORITY, 1024);
  nlattr* m = mnl_attr_nest_start(d.nlh(), RTA_METRICS);
  mnl_attr_put_u32(d.nlh(), RTAX_MTU, 1400);
  mnl_attr_nest_end(d.nlh(), m);
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_TRUE(b) << b.error().what();
  ASSERT_EQ(b->routes.size(), 1u);
  const Route& r = b->routes[0];
  EXPECT_EQ(r.destination, "2001:db8::");
  EXPECT_EQ(r.gateway, "fe80::1");
  EXPECT_EQ(r.oif, 5);
  EXPECT_EQ(r.metric, 1024u);
  EXPECT_EQ(r.mtu, 1400u);
}

TEST(NetlinkParse, Neighbour) {
  Datagram d;
  auto* nd = d.begin<ndmsg>(RTM_NEWNEIGH);
  nd->ndm_family = AF_INET;
  nd->ndm_ifindex = 5;
  nd->ndm_state = NUD_PERMANENT;
  put_ip(d.nlh(), NDA_DST, AF_INET, "172.17.0.1");
  uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
  mnl_attr_put(d.nlh(), NDA_LLADDR, 6, mac);
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_TRUE(b) << b.error().what();
  ASSERT_EQ(b->neighbours.size(), 1u);
  EXPECT_EQ(b->neighbours[0].address, "172.17.0.1");
  EXPECT_EQ(b->neighbours[0].mac, "01:02:03:04:05:06");
}

TEST(NetlinkParse, OtherTypesAreSkippedAndCounted) {
  Datagram d;
  d.begin<int>(NLMSG_NOOP);
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->skipped, 1u);
}

TEST(NetlinkParse, WrongSequence) {
  Datagram d;
  add_veth(d, 5, "eth0");
  auto b = parse_dump(d.bytes(), 8);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::GuestProtocol);
  EXPECT_NE(b.error().what().find("request 7, expected 8"), std::string::npos);
}

TEST(NetlinkParse, Empty) {
  auto b = parse_dump({}, 7);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::GuestProtocol);
}

TEST(NetlinkParse, TruncatedMessage) {
  Datagram d;
  add_veth(d, 5, "eth0");
  d.bytes().resize(d.bytes().size() - 4);
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().what().find("malformed netlink message"), std::string::npos);
}

TEST(NetlinkParse, LengthPastTwoGigabytes) {
  // Found by fuzzing: libmnl's own check takes such a length as negative.
  Datagram d;
  add_veth(d, 5, "eth0");
  uint32_t huge = 0xae2e0a0aU;
  std::memcpy(d.bytes().data(), &huge, sizeof huge);
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().what().find("malformed netlink message"), std::string::npos);
}

TEST(NetlinkParse, TrailingBytes) {
  Datagram d;
  add_veth(d, 5, "eth0");
  d.bytes().resize(d.bytes().size() + 8);
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
}

TEST(NetlinkParse, ShortHeader) {
  Datagram d;
  d.begin<uint16_t>(RTM_NEWLINK);
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().what().find("the header needs"), std::string::npos);
}

TEST(NetlinkParse, NameWithoutNul) {
  Datagram d;
  auto* ifi = d.begin<ifinfomsg>(RTM_NEWLINK);
  ifi->ifi_index = 1;
  mnl_attr_put(d.nlh(), IFLA_IFNAME, 4, "eth0");
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().what().find("without its NUL"), std::string::npos);
}

TEST(NetlinkParse, NameTooLong) {
  Datagram d;
  auto* ifi = d.begin<ifinfomsg>(RTM_NEWLINK);
  ifi->ifi_index = 1;
  mnl_attr_put_strz(d.nlh(), IFLA_IFNAME, "a-name-longer-than-ifnamsiz");
  d.end();
  ASSERT_FALSE(parse_dump(d.bytes(), 7));
}

TEST(NetlinkParse, LinkWithoutName) {
  Datagram d;
  d.begin<ifinfomsg>(RTM_NEWLINK)->ifi_index = 3;
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().what().find("no IFLA_IFNAME"), std::string::npos);
}

TEST(NetlinkParse, ShortU32) {
  Datagram d;
  auto* ifi = d.begin<ifinfomsg>(RTM_NEWLINK);
  ifi->ifi_index = 1;
  mnl_attr_put_strz(d.nlh(), IFLA_IFNAME, "eth0");
  mnl_attr_put_u16(d.nlh(), IFLA_MTU, 1500);
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().what().find("has 2 bytes, needs 4"), std::string::npos);
}

TEST(NetlinkParse, AddressOfWrongSize) {
  Datagram d;
  auto* ifa = d.begin<ifaddrmsg>(RTM_NEWADDR);
  ifa->ifa_family = AF_INET;
  ifa->ifa_index = 1;
  put_ip(d.nlh(), IFA_ADDRESS, AF_INET6, "::1");
  d.end();
  ASSERT_FALSE(parse_dump(d.bytes(), 7));
}

TEST(NetlinkParse, AddressWithoutAddress) {
  Datagram d;
  auto* ifa = d.begin<ifaddrmsg>(RTM_NEWADDR);
  ifa->ifa_family = AF_INET;
  d.end();
  ASSERT_FALSE(parse_dump(d.bytes(), 7));
}

TEST(NetlinkParse, PrefixTooLong) {
  Datagram d;
  auto* ifa = d.begin<ifaddrmsg>(RTM_NEWADDR);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 33;
  put_ip(d.nlh(), IFA_ADDRESS, AF_INET, "10.0.0.1");
  d.end();
  ASSERT_FALSE(parse_dump(d.bytes(), 7));
}

TEST(NetlinkParse, UnknownFamily) {
  Datagram d;
  auto* rtm = d.begin<rtmsg>(RTM_NEWROUTE);
  rtm->rtm_family = AF_BRIDGE;
  d.end();
  ASSERT_FALSE(parse_dump(d.bytes(), 7));
}

TEST(NetlinkParse, RouteLengthWithoutDestination) {
  Datagram d;
  auto* rtm = d.begin<rtmsg>(RTM_NEWROUTE);
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 8;
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().what().find("without RTA_DST"), std::string::npos);
}

TEST(NetlinkParse, MalformedNestedAttribute) {
  Datagram d;
  auto* ifi = d.begin<ifinfomsg>(RTM_NEWLINK);
  ifi->ifi_index = 1;
  mnl_attr_put_strz(d.nlh(), IFLA_IFNAME, "eth0");
  uint8_t junk[6] = {0xff, 0x00, 0x01, 0x00, 0, 0};  // an attribute claiming 255 bytes
  mnl_attr_put(d.nlh(), IFLA_LINKINFO, sizeof junk, junk);
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().what().find("IFLA_LINKINFO: malformed attribute"), std::string::npos);
}

TEST(NetlinkParse, MessageAfterDone) {
  Datagram d;
  d.done();
  add_veth(d, 5, "eth0");
  ASSERT_FALSE(parse_dump(d.bytes(), 7));
}

TEST(NetlinkParse, KernelError) {
  Datagram d;
  d.begin<nlmsgerr>(NLMSG_ERROR)->error = -EPERM;
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::System);
  EXPECT_EQ(b.error().sys_errno, EPERM);
  EXPECT_FALSE(parse_ack(d.bytes(), 7));
}

TEST(NetlinkParse, ErrorOutOfRange) {
  Datagram d;
  d.begin<nlmsgerr>(NLMSG_ERROR)->error = 5;
  d.end();
  auto b = parse_dump(d.bytes(), 7);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::GuestProtocol);
}

TEST(NetlinkParse, Ack) {
  Datagram d;
  d.begin<nlmsgerr>(NLMSG_ERROR)->error = 0;
  d.end();
  EXPECT_TRUE(parse_ack(d.bytes(), 7));
  EXPECT_FALSE(parse_ack(d.bytes(), 9));
  Datagram other;
  add_veth(other, 1, "eth0");
  EXPECT_FALSE(parse_ack(other.bytes(), 7));
}

TEST(NetlinkParse, Oversized) {
  std::vector<std::byte> big(128 * 1024);
  ASSERT_FALSE(parse_dump(big, 7));
}

TEST(NetlinkParse, UnalignedInput) {
  Datagram d;
  add_veth(d, 5, "eth0");
  std::vector<std::byte> shifted(d.bytes().size() + 1);
  std::memcpy(shifted.data() + 1, d.bytes().data(), d.bytes().size());
  auto b = parse_dump(std::span(shifted).subspan(1), 7);
  ASSERT_TRUE(b) << b.error().what();
  EXPECT_EQ(b->links[0].name, "eth0");
}

TEST(Mac, FormatAndParse) {
  auto m = parse_mac("02:42:AC:11:00:02");
  ASSERT_TRUE(m);
  EXPECT_EQ(format_mac(*m), "02:42:ac:11:00:02");
  EXPECT_FALSE(parse_mac("02:42:ac:11:00"));
  EXPECT_FALSE(parse_mac("02-42-ac-11-00-02"));
  EXPECT_FALSE(parse_mac("02:42:ac:11:00:0g"));
}

// The builders' output parses as the kernel would read it.
TEST(NetlinkBuild, RequestsAreWellFormed) {
  for (auto msg : {build_dump(RTM_GETLINK, 3), build_link_up(3, 4, 1500), build_link_delete(3, 4),
                   build_ingress_qdisc(3, 4, true), build_ingress_qdisc(3, 4, false),
                   build_redirect_filter(3, 4, 5)}) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg.data());
    ASSERT_TRUE(mnl_nlmsg_ok(nlh, static_cast<int>(msg.size())));
    EXPECT_EQ(nlh->nlmsg_len, msg.size());
    EXPECT_EQ(nlh->nlmsg_seq, 3u);
    EXPECT_TRUE(nlh->nlmsg_flags & NLM_F_REQUEST);
  }
  auto f = build_redirect_filter(3, 4, 5);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(f.data());
  EXPECT_EQ(nlh->nlmsg_type, RTM_NEWTFILTER);
  const auto* t = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(nlh));
  EXPECT_EQ(t->tcm_ifindex, 4);
  EXPECT_EQ(t->tcm_parent, 0xffff0000U);
  // The mirred parameters name the target interface.
  bool found = false;
  for (size_t i = 0; i + 4 <= f.size(); ++i) {
    uint32_t v;
    std::memcpy(&v, f.data() + i, 4);
    if (v == 5 && i > sizeof(nlmsghdr) + sizeof(tcmsg)) found = true;
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace hull::network
