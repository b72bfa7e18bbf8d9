// The runc-mode network choices and the agent requests made of a plan
// (runtime/container/network.h).
#include "runtime/container/network.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "common/oci/spec.h"

namespace hull::container {
namespace {

oci::Spec with_namespaces(std::vector<oci::Namespace> nss) {
  oci::Spec s = oci::default_spec();
  s.linux->namespaces = std::move(nss);
  return s;
}

TEST(NetworkChoice, FromTheSpec) {
  EXPECT_EQ(network_choice(with_namespaces({{"pid", std::nullopt, {}}})).mode, NetMode::None);
  EXPECT_EQ(network_choice(with_namespaces({{"network", std::nullopt, {}}})).mode, NetMode::New);
  auto p = network_choice(with_namespaces({{"network", "/run/netns/x", {}}}));
  EXPECT_EQ(p.mode, NetMode::Path);
  EXPECT_EQ(p.path, "/run/netns/x");
  EXPECT_EQ(network_choice(with_namespaces({{"network", "", {}}})).mode, NetMode::New);
  oci::Spec none = oci::default_spec();
  none.linux.reset();
  EXPECT_EQ(network_choice(none).mode, NetMode::None);
}

TEST(NetworkChoice, ProcessNamespacePaths) {
  EXPECT_EQ(process_netns_pid("/proc/123/ns/net"), 123);
  EXPECT_EQ(process_netns_pid("/proc/123/task/124/ns/net"), 123);
  EXPECT_EQ(process_netns_pid("/run/netns/x"), 0);
  EXPECT_EQ(process_netns_pid("/var/run/docker/netns/default"), 0);
  EXPECT_EQ(process_netns_pid("/proc/self/ns/net"), 0);
  EXPECT_EQ(process_netns_pid("/proc/123/ns/pid"), 0);
  EXPECT_EQ(process_netns_pid("/proc//ns/net"), 0);
  EXPECT_EQ(process_netns_pid("/proc/1/task//ns/net"), 0);
  EXPECT_EQ(process_netns_pid("/proc/12345678901/ns/net"), 0);
}

TEST(NetworkChoice, HostAndOtherProcessesAreRefused) {
  auto host = check_network_choice({NetMode::Path, "/proc/self/ns/net"});
  ASSERT_FALSE(host);
  EXPECT_EQ(host.error().code, Errc::Unsupported);
  EXPECT_NE(host.error().what().find("is the host's own"), std::string::npos);
  EXPECT_NE(host.error().what().find("needs a namespace of its own"), std::string::npos);
  auto init = check_network_choice({NetMode::Path, "/proc/1/ns/net"});
  ASSERT_FALSE(init);
  EXPECT_NE(init.error().what().find("is the host's own"), std::string::npos);
  auto other = check_network_choice({NetMode::Path, "/proc/999999999/ns/net"});
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().what().find("container:X"), std::string::npos);
  auto missing = check_network_choice({NetMode::Path, "/nonexistent/netns"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  EXPECT_TRUE(check_network_choice({NetMode::New, ""}));
}

TEST(NetworkChoice, NoNetworkEntryIsTheCallersNamespaceAndRefused) {
  auto none = check_network_choice({NetMode::None, ""});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::Unsupported);
  EXPECT_NE(none.error().what().find("no \"network\" entry"), std::string::npos);
  EXPECT_NE(none.error().what().find("podman --network host"), std::string::npos);
  EXPECT_NE(none.error().what().find("add {\"type\": \"network\"}"), std::string::npos);
}

TEST(NetworkChoice, HowErrorsNameTheNamespace) {
  EXPECT_EQ(describe_netns({NetMode::Path, "/run/netns/cni-1"}, 4026532001),
            "/run/netns/cni-1 (net:[4026532001])");
  EXPECT_EQ(describe_netns({NetMode::New, ""}, 4026532002),
            "net:[4026532002], which hull made for the container");
}

TEST(GuestRequests, FromAPlan) {
  network::Plan p;
  p.nics.push_back({"eth0",
                    12,
                    "hulltap0",
                    "02:42:ac:11:00:02",
                    1450,
                    {{"172.17.0.2", 16}, {"2001:db8::2", 64}}});
  p.routes.push_back({AF_INET, "default", "172.17.0.1", "eth0", "", 0, 0, 0});
  p.routes.push_back({AF_INET6, "::/0", "2001:db8::1", "eth0", "", 0, 1024, 1400});
  p.neighbours.push_back({"172.17.0.9", "02:00:00:00:00:09", "eth0"});
  auto ifs = guest_interfaces(p);
  ASSERT_EQ(ifs.size(), 1u);
  EXPECT_EQ(ifs[0].name(), "eth0");
  EXPECT_EQ(ifs[0].mac(), "02:42:ac:11:00:02");
  EXPECT_EQ(ifs[0].mtu(), 1450u);
  EXPECT_TRUE(ifs[0].up());
  ASSERT_EQ(ifs[0].addresses_size(), 2);
  EXPECT_EQ(ifs[0].addresses(1).address(), "2001:db8::2");
  auto rs = guest_routes(p);
  ASSERT_EQ(rs.routes_size(), 2);
  EXPECT_EQ(rs.routes(0).destination(), "default");
  EXPECT_EQ(rs.routes(0).family(), 4u);
  EXPECT_EQ(rs.routes(1).family(), 6u);
  EXPECT_EQ(rs.routes(1).metric(), 1024u);
  EXPECT_EQ(rs.routes(1).mtu(), 1400u);
  auto ns = guest_neighbours(p);
  ASSERT_EQ(ns.neighbors_size(), 1);
  EXPECT_EQ(ns.neighbors(0).mac(), "02:00:00:00:00:09");
}

}  // namespace
}  // namespace hull::container
