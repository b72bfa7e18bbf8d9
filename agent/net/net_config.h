// The agent's network calls (UpdateInterface, UpdateRoutes, AddNeighbors and
// the List calls) carried out with rtnetlink in the agent's network namespace,
// which is the guest's root namespace where the NICs live.
//
// The conversions between the proto messages and netlink's objects are pure
// (to_route_spec, to_proto_route, ...) and unit-tested; the operations open
// one rtnetlink socket per call.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent.pb.h"
#include "agent/net/netlink.h"
#include "common/error.h"

namespace hull::agent::net {

// Links by index, for naming route and neighbour devices.
using LinkNames = std::map<int, std::string>;

// --- pure conversions ---

// Route message -> netlink route; oif_of maps a device name to its index
// (NotFound names the device). Family comes from Route.family, else the
// destination, gateway or source; "default" alone is IPv4. Without a gateway a
// unicast route gets link scope, as `ip route add` gives it.
Result<RouteSpec> to_route_spec(const Route& r, const std::map<std::string, int>& index_of);
Route to_proto_route(const RouteInfo& r, const LinkNames& names);
Interface to_proto_interface(const LinkInfo& l, const std::vector<AddrInfo>& addrs);
Neighbor to_proto_neighbor(const NeighInfo& n, const LinkNames& names);
Result<NeighSpec> to_neigh_spec(const Neighbor& n, const std::map<std::string, int>& index_of);

// The addresses of an interface the agent manages: every one but IPv6 link-local
// (fe80::/10, which the kernel makes per link).
bool managed_address(const AddrInfo& a);
// The main-table routes UpdateRoutes replaces: every one the kernel did not
// make itself (protocol kernel), in the main table.
bool managed_route(const RouteInfo& r);
// Whether a route the kernel holds is the one spec asks for (same key the kernel
// replaces by: family, destination, table, metric; and same gateway and device).
bool same_route(const RouteInfo& have, const RouteSpec& want);

// The name a link that is in the way of a rename is moved to: "hullp<index>" (at most 15
// characters).
std::string parking_name(int index);

// --- operations (rtnetlink) ---

Result<Interfaces> list_interfaces();
Result<Routes> list_routes();
Result<Neighbors> list_neighbors();
Result<Interface> update_interface(const Interface& want);
Result<Routes> update_routes(const Routes& want);
Status add_neighbors(const Neighbors& want);

}  // namespace hull::agent::net
