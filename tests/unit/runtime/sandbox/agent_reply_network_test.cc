// The host's checks of network replies (runtime/sandbox/agent_reply.h,
// agent_reply_network.cc).
#include "runtime/sandbox/agent_reply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "agent/proto/constants.h"
#include "tests/unit/runtime/sandbox/agent_reply_expect.h"

namespace hull::sandbox {
namespace {

agent::Interface eth0() {
  agent::Interface i;
  i.set_name("eth0");
  i.set_mac("02:42:ac:11:00:02");
  i.set_mtu(1500);
  auto* a = i.add_addresses();
  a->set_address("172.17.0.2");
  a->set_prefix_len(16);
  auto* b = i.add_addresses();
  b->set_address("fe80::42:acff:fe11:2");
  b->set_prefix_len(64);
  i.set_up(true);
  return i;
}

TEST(ParseInterface, KeepsHonestInterface) {
  auto r = parse_updated_interface(eth0(), eth0());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->addresses_size(), 2);
  agent::Interface upper = eth0();
  upper.set_mac("02:42:AC:11:00:02");
  EXPECT_TRUE(parse_updated_interface(upper, eth0()));
}

TEST(ParseInterface, RefusesLies) {
  auto with = [](auto f) {
    agent::Interface i = eth0();
    f(i);
    return i;
  };
  expect_refused(parse_interface(with([](auto& i) { i.set_name(""); }), "UpdateInterface"),
                 "name is empty");
  expect_refused(
      parse_interface(with([](auto& i) { i.set_name("a-very-long-interface"); }), "ListInterfaces"),
      "name");
  expect_refused(parse_interface(with([](auto& i) { i.set_name("eth\x1b"); }), "ListInterfaces"),
                 "control characters");
  expect_refused(parse_interface(with([](auto& i) { i.set_name("a/b"); }), "ListInterfaces"),
                 "no interface name");
  expect_refused(parse_interface(with([](auto& i) { i.set_mac("02:42:ac:11:00"); }), "x"),
                 "no MAC address");
  expect_refused(parse_interface(with([](auto& i) { i.set_mtu(70000); }), "x"), "mtu");
  expect_refused(
      parse_interface(with([](auto& i) { i.mutable_addresses(0)->set_address("1.2.3"); }), "x"),
      "no IP address");
  expect_refused(
      parse_interface(with([](auto& i) { i.mutable_addresses(0)->set_prefix_len(33); }), "x"),
      "prefix length 33");
  expect_refused(parse_interface(with([](auto& i) {
                                   for (int n = 0; n < 300; ++n) i.add_addresses();
                                 }),
                                 "x"),
                 "addresses");
  expect_refused(parse_updated_interface(with([](auto& i) { i.set_name("eth1"); }), eth0()),
                 "asked for");
  expect_refused(parse_updated_interface(with([](auto& i) { i.set_mtu(1400); }), eth0()),
                 "MTU 1400");
}

TEST(ParseRoutes, KeepsHonestRoutes) {
  agent::Routes rs;
  auto* d = rs.add_routes();
  d->set_destination("default");
  d->set_gateway("172.17.0.1");
  d->set_device("eth0");
  auto* s = rs.add_routes();
  s->set_destination("2001:db8::/64");
  s->set_device("eth0");
  auto* v6 = rs.add_routes();
  v6->set_destination("::/0");
  v6->set_gateway("fe80::1");
  auto r = parse_routes(rs, "UpdateRoutes");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->routes_size(), 3);
}

TEST(ParseRoutes, RefusesLies) {
  auto one = [](auto f) {
    agent::Routes rs;
    auto* r = rs.add_routes();
    r->set_destination("10.0.0.0/8");
    f(*r);
    return rs;
  };
  for (const char* d : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "x/8", "10.0.0.0/8a",
                        "2001:db8::/129", "10.0.0.0/0008"}) {
    expect_refused(parse_routes(one([&](auto& r) { r.set_destination(d); }), "ListRoutes"),
                   "no route destination");
  }
  expect_refused(parse_routes(one([](auto& r) { r.set_gateway("gw"); }), "x"), "gateway");
  expect_refused(parse_routes(one([](auto& r) { r.set_source("1.1.1.1.1"); }), "x"), "source");
  expect_refused(parse_routes(one([](auto& r) { r.set_device("a b"); }), "x"), "device");
  expect_refused(parse_routes(one([](auto& r) { r.set_scope(300); }), "x"), "scope");
  expect_refused(parse_routes(one([](auto& r) { r.set_family(5); }), "x"), "family 5");
  expect_refused(parse_routes(one([](auto& r) { r.set_mtu(70000); }), "x"), "mtu");
  agent::Routes many;
  for (int n = 0; n < 5000; ++n) many.add_routes()->set_destination("default");
  expect_refused(parse_routes(many, "x"), "routes");
}

}  // namespace
}  // namespace hull::sandbox
