#include "agent/net/addr.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace hull::agent::net {
namespace {

TEST(Addr, ParsesAndFormatsBothFamilies) {
  auto v4 = parse_ip("172.17.0.2");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family, AF_INET);
  EXPECT_EQ(v4->size(), 4u);
  EXPECT_EQ(format_ip(*v4), "172.17.0.2");
  auto v6 = parse_ip("FD00::2");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family, AF_INET6);
  EXPECT_EQ(format_ip(*v6), "fd00::2");
}

TEST(Addr, RefusesWhatIsNoAddress) {
  for (const char* bad :
       {"", "1.2.3", "1.2.3.4/24", "eth0", "::g", "0000:0000:0000:0000:0000:0000:0000:0000:0000"}) {
    auto r = parse_ip(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::Invalid);
  }
}

TEST(Addr, BytesMustFitTheFamily) {
  uint8_t b[16] = {10, 0, 0, 1};
  EXPECT_TRUE(ip_from_bytes(AF_INET, {b, 4}));
  EXPECT_FALSE(ip_from_bytes(AF_INET, {b, 16}));
  EXPECT_FALSE(ip_from_bytes(AF_INET6, {b, 4}));
  EXPECT_FALSE(ip_from_bytes(AF_PACKET, {b, 4}));
  EXPECT_TRUE(ip_from_bytes(AF_INET6, {b, 16}));
}

TEST(Addr, Prefixes) {
  auto d4 = parse_prefix("default", 0);
  ASSERT_TRUE(d4);
  EXPECT_EQ(d4->addr.family, AF_INET);
  EXPECT_EQ(d4->len, 0);
  auto d6 = parse_prefix("default", AF_INET6);
  ASSERT_TRUE(d6);
  EXPECT_EQ(d6->addr.family, AF_INET6);
  auto net = parse_prefix("10.1.0.0/16", 0);
  ASSERT_TRUE(net);
  EXPECT_EQ(net->len, 16);
  EXPECT_EQ(format_prefix(*net), "10.1.0.0/16");
  auto host = parse_prefix("fd00::1", 0);
  ASSERT_TRUE(host);
  EXPECT_EQ(host->len, 128);
  EXPECT_EQ(format_prefix(Prefix{net->addr, 0}), "default");
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x", "x/8",
                          "10.0.0.0/8/8", "10.0.0.0/-1"}) {
    EXPECT_FALSE(parse_prefix(bad, 0)) << bad;
  }
}

TEST(Addr, Macs) {
  auto m = parse_mac("02:42:AC:11:00:02");
  ASSERT_TRUE(m);
  EXPECT_EQ(format_mac(*m), "02:42:ac:11:00:02");
  EXPECT_EQ(format_mac({}), "");
  for (const char* bad : {"", "02:42:ac:11:00", "02:42:ac:11:00:02:03", "02-42-ac-11-00-02",
                          "0g:42:ac:11:00:02", "02:42:ac:11:00:2"}) {
    EXPECT_FALSE(parse_mac(bad)) << bad;
  }
}

TEST(Addr, BroadcastAsIpSetsIt) {
  auto a = parse_ip("172.17.0.2");
  ASSERT_TRUE(a);
  EXPECT_EQ(format_ip(broadcast_of(*a, 16)), "172.17.255.255");
  EXPECT_EQ(format_ip(broadcast_of(*a, 30)), "172.17.0.3");
  EXPECT_EQ(broadcast_of(*a, 31).family, 0);
  EXPECT_EQ(broadcast_of(*a, 32).family, 0);
  EXPECT_EQ(format_ip(broadcast_of(*a, 0)), "255.255.255.255");
  auto v6 = parse_ip("fd00::2");
  EXPECT_EQ(broadcast_of(*v6, 64).family, 0);
}

TEST(Addr, FamilyNumbers) {
  EXPECT_EQ(*family_from_proto(0), 0);
  EXPECT_EQ(*family_from_proto(4), AF_INET);
  EXPECT_EQ(*family_from_proto(6), AF_INET6);
  EXPECT_FALSE(family_from_proto(2));
  EXPECT_EQ(family_to_proto(AF_INET6), 6u);
  EXPECT_EQ(family_to_proto(AF_PACKET), 0u);
}

}  // namespace
}  // namespace hull::agent::net
