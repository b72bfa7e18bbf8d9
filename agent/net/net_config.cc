#include "agent/net/net_config.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>

#include "agent/net/rtnl.h"
#include "common/text.h"

namespace hull::agent::net {
namespace {

constexpr uint32_t kAppliedFlags = IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI;

Result<uint8_t> small(uint32_t v, const char* field, std::string_view what) {
  if (v > 255) {
    return fail(Errc::Invalid, std::string(what) + ": " + field + " " + std::to_string(v) +
                                   " is out of range (0-255)");
  }
  return static_cast<uint8_t>(v);
}

Result<IpAddr> optional_ip(const std::string& text, int family, const char* field,
                           std::string_view what) {
  if (text.empty()) return IpAddr{};
  HULL_ASSIGN(ip, wrap(parse_ip(text), std::string(what) + ": " + field));
  if (family && ip.family != family) {
    return fail(Errc::Invalid, std::string(what) + ": " + field + " " + quote(text) +
                                   " is not of the route's address family");
  }
  return ip;
}

int family_of_text(const std::string& s) {
  auto ip = parse_ip(s.substr(0, s.find('/')));
  return ip ? ip->family : 0;
}

Result<std::vector<NlMessage>> one_message(const std::vector<uint8_t>& buf) {
  return split_messages(buf);
}

Result<std::vector<LinkInfo>> dump_links(Rtnl& nl) {
  HULL_ASSIGN(msgs, nl.dump(dump_request(RTM_GETLINK, AF_UNSPEC, nl.next_seq()), "listing links"));
  std::vector<LinkInfo> out;
  for (const auto& buf : msgs) {
    HULL_ASSIGN(split, one_message(buf));
    for (const NlMessage& m : split) {
      HULL_ASSIGN(l, parse_link(m));
      out.push_back(std::move(l));
    }
  }
  return out;
}

Result<std::vector<AddrInfo>> dump_addrs(Rtnl& nl) {
  HULL_ASSIGN(msgs,
              nl.dump(dump_request(RTM_GETADDR, AF_UNSPEC, nl.next_seq()), "listing addresses"));
  std::vector<AddrInfo> out;
  for (const auto& buf : msgs) {
    HULL_ASSIGN(split, one_message(buf));
    for (const NlMessage& m : split) {
      HULL_ASSIGN(a, parse_addr(m));
      out.push_back(a);
    }
  }
  return out;
}

// The main table's routes, IPv4 then IPv6.
Result<std::vector<RouteInfo>> dump_main_routes(Rtnl& nl) {
  std::vector<RouteInfo> out;
  for (int family : {AF_INET, AF_INET6}) {
    HULL_ASSIGN(msgs, nl.dump(dump_request(RTM_GETROUTE, family, nl.next_seq()), "listing routes"));
    for (const auto& buf : msgs) {
      HULL_ASSIGN(split, one_message(buf));
      for (const NlMessage& m : split) {
        HULL_ASSIGN(r, parse_route(m));
        if (r.table == RT_TABLE_MAIN) out.push_back(r);
      }
    }
  }
  return out;
}

LinkNames names_of(const std::vector<LinkInfo>& links) {
  LinkNames out;
  for (const LinkInfo& l : links) out[l.index] = l.name;
  return out;
}

std::map<std::string, int> indexes_of(const std::vector<LinkInfo>& links) {
  std::map<std::string, int> out;
  for (const LinkInfo& l : links) out[l.name] = l.index;
  return out;
}

std::string describe_links(const std::vector<LinkInfo>& links) {
  std::string out;
  for (const LinkInfo& l : links) {
    if (!out.empty()) out += ", ";
    out += l.name + (l.mac.empty() ? "" : " " + format_mac(l.mac));
  }
  return out.empty() ? "none" : out;
}

Status valid_name(const std::string& name) {
  bool ok = !name.empty() && name.size() < IFNAMSIZ && name != "." && name != "..";
  for (char c : name) ok = ok && c != '/' && c != ':' && c > ' ' && c < 127;
  if (!ok) {
    return fail(Errc::Invalid, "interface name " + quote(name) +
                                   " is not a valid Linux interface name (1-15 printable "
                                   "characters, no '/', ':' or spaces)");
  }
  return {};
}

LinkChange flags_change(int index, uint32_t flags, uint32_t change) {
  LinkChange c;
  c.index = index;
  c.flags = flags;
  c.change = change;
  return c;
}

Status set_link(Rtnl& nl, const LinkChange& c, const std::string& what) {
  return nl.call(set_link_request(c, nl.next_seq()), what);
}

Status rename_link(Rtnl& nl, const LinkInfo& l, const std::string& name) {
  HULL_TRY(
      set_link(nl, flags_change(l.index, 0, IFF_UP), "setting " + l.name + " down to rename it"));
  LinkChange rename;
  rename.index = l.index;
  rename.name = name;
  return set_link(nl, rename, "renaming " + l.name + " to " + name);
}

}  // namespace

bool managed_address(const AddrInfo& a) {
  bool link_local6 = a.address.family == AF_INET6 && a.address.bytes[0] == 0xfe &&
                     (a.address.bytes[1] & 0xc0) == 0x80;
  return !link_local6;
}

bool managed_route(const RouteInfo& r) {
  return r.table == RT_TABLE_MAIN && r.protocol != RTPROT_KERNEL;
}

bool same_route(const RouteInfo& have, const RouteSpec& want) {
  uint32_t table = want.table ? want.table : static_cast<uint32_t>(RT_TABLE_MAIN);
  return have.family == want.dst.addr.family && have.dst_len == want.dst.len &&
         (want.dst.len == 0 || have.dst == want.dst.addr) && have.table == table &&
         have.priority == want.priority && have.gateway == want.gateway &&
         (!want.oif || have.oif == want.oif);
}

std::string parking_name(int index) {
  return "hullp" + std::to_string(index);
}

Result<RouteSpec> to_route_spec(const Route& r, const std::map<std::string, int>& index_of) {
  std::string dest = r.destination().empty() ? "default" : r.destination();
  std::string what = "route to " + dest;
  HULL_ASSIGN(family, wrap(family_from_proto(r.family()), what));
  if (!family && dest != "default") family = family_of_text(dest);
  if (!family) family = family_of_text(r.gateway());
  if (!family) family = family_of_text(r.source());
  if (!family) family = AF_INET;
  RouteSpec s;
  HULL_ASSIGN(dst, wrap(parse_prefix(dest, family), what));
  if (dst.addr.family != family) {
    return fail(Errc::Invalid, what + ": the destination is not of the route's family " +
                                   std::to_string(family_to_proto(family)));
  }
  s.dst = dst;
  HULL_ASSIGN(gw, optional_ip(r.gateway(), family, "gateway", what));
  s.gateway = gw;
  HULL_ASSIGN(src, optional_ip(r.source(), family, "source", what));
  s.prefsrc = src;
  if (!r.device().empty()) {
    auto it = index_of.find(r.device());
    if (it == index_of.end()) {
      return fail(Errc::NotFound, what + ": the guest has no interface named " + quote(r.device()) +
                                      " (call UpdateInterface for it first)");
    }
    s.oif = it->second;
  }
  HULL_ASSIGN(scope, small(r.scope(), "scope", what));
  HULL_ASSIGN(type, small(r.type(), "type", what));
  HULL_ASSIGN(protocol, small(r.protocol(), "protocol", what));
  s.scope = scope;
  s.type = type;
  s.protocol = protocol;
  bool unicast = type == 0 || type == RTN_UNICAST;
  if (family == AF_INET && scope == RT_SCOPE_UNIVERSE && unicast && !gw.family) {
    s.scope = RT_SCOPE_LINK;
  }
  s.table = r.table();
  s.priority = r.metric();
  s.mtu = r.mtu();
  s.onlink = r.onlink();
  return s;
}

Route to_proto_route(const RouteInfo& r, const LinkNames& names) {
  Route out;
  Prefix dst{r.dst, r.dst_len};
  if (!dst.addr.family) dst.addr.family = r.family;
  out.set_destination(format_prefix(dst));
  if (r.gateway.family) out.set_gateway(format_ip(r.gateway));
  if (auto it = names.find(r.oif); r.oif && it != names.end()) out.set_device(it->second);
  if (r.prefsrc.family) out.set_source(format_ip(r.prefsrc));
  out.set_scope(r.scope);
  out.set_metric(r.priority);
  out.set_family(family_to_proto(r.family));
  out.set_mtu(r.mtu);
  out.set_table(r.table);
  out.set_onlink((r.flags & RTNH_F_ONLINK) != 0);
  out.set_type(r.type);
  out.set_protocol(r.protocol);
  return out;
}

Interface to_proto_interface(const LinkInfo& l, const std::vector<AddrInfo>& addrs) {
  Interface out;
  out.set_name(l.name);
  out.set_mac(format_mac(l.mac));
  out.set_mtu(l.mtu);
  out.set_up((l.flags & IFF_UP) != 0);
  out.set_flags(l.flags);
  out.set_index(static_cast<uint32_t>(l.index));
  for (const AddrInfo& a : addrs) {
    if (a.index != l.index) continue;
    IpAddress* ip = out.add_addresses();
    ip->set_address(format_ip(a.address));
    ip->set_prefix_len(a.prefix_len);
  }
  return out;
}

Neighbor to_proto_neighbor(const NeighInfo& n, const LinkNames& names) {
  Neighbor out;
  out.set_address(format_ip(n.dst));
  out.set_mac(format_mac(n.lladdr));
  if (auto it = names.find(n.index); it != names.end()) out.set_device(it->second);
  out.set_state(n.state);
  out.set_flags(n.flags);
  return out;
}

Result<NeighSpec> to_neigh_spec(const Neighbor& n, const std::map<std::string, int>& index_of) {
  std::string what = "neighbour " + n.address();
  NeighSpec s;
  HULL_ASSIGN(dst, wrap(parse_ip(n.address()), what));
  s.dst = dst;
  HULL_ASSIGN(mac, wrap(parse_mac(n.mac()), what));
  s.lladdr.assign(mac.begin(), mac.end());
  auto it = index_of.find(n.device());
  if (it == index_of.end()) {
    return fail(Errc::NotFound, what + ": the guest has no interface named " + quote(n.device()));
  }
  s.index = it->second;
  if (n.state() > 0xffff) {
    return fail(Errc::Invalid, what + ": state " + std::to_string(n.state()) + " is out of range");
  }
  HULL_ASSIGN(flags, small(n.flags(), "flags", what));
  s.state = static_cast<uint16_t>(n.state());
  s.flags = flags;
  return s;
}

Result<Interfaces> list_interfaces() {
  HULL_ASSIGN(nl, Rtnl::open());
  HULL_ASSIGN(links, dump_links(nl));
  HULL_ASSIGN(addrs, dump_addrs(nl));
  Interfaces out;
  for (const LinkInfo& l : links) *out.add_interfaces() = to_proto_interface(l, addrs);
  return out;
}

Result<Routes> list_routes() {
  HULL_ASSIGN(nl, Rtnl::open());
  HULL_ASSIGN(links, dump_links(nl));
  HULL_ASSIGN(routes, dump_main_routes(nl));
  LinkNames names = names_of(links);
  Routes out;
  for (const RouteInfo& r : routes) *out.add_routes() = to_proto_route(r, names);
  return out;
}

Result<Neighbors> list_neighbors() {
  HULL_ASSIGN(nl, Rtnl::open());
  HULL_ASSIGN(links, dump_links(nl));
  HULL_ASSIGN(msgs,
              nl.dump(dump_request(RTM_GETNEIGH, AF_UNSPEC, nl.next_seq()), "listing neighbours"));
  LinkNames names = names_of(links);
  Neighbors out;
  for (const auto& buf : msgs) {
    HULL_ASSIGN(split, one_message(buf));
    for (const NlMessage& m : split) {
      HULL_ASSIGN(n, parse_neigh(m));
      if (!n.dst.family || (n.state & NUD_NOARP)) continue;
      *out.add_neighbors() = to_proto_neighbor(n, names);
    }
  }
  return out;
}

Result<Interface> update_interface(const Interface& want) {
  HULL_ASSIGN(nl, Rtnl::open());
  HULL_ASSIGN(links, dump_links(nl));
  const LinkInfo* link = nullptr;
  std::string what;
  if (!want.mac().empty()) {
    HULL_ASSIGN(mac, wrap(parse_mac(want.mac()), "UpdateInterface"));
    for (const LinkInfo& l : links) {
      if (std::equal(l.mac.begin(), l.mac.end(), mac.begin(), mac.end())) link = &l;
    }
    what = "MAC " + want.mac();
  } else {
    for (const LinkInfo& l : links) {
      if (l.name == want.name()) link = &l;
    }
    what = "name " + quote(want.name());
  }
  if (!link) {
    return fail(Errc::NotFound, "UpdateInterface: no guest interface has " + what +
                                    " (the guest has: " + describe_links(links) +
                                    "); the VM needs a NIC with that MAC");
  }
  const LinkInfo l = *link;
  std::string name = want.name().empty() ? l.name : want.name();
  std::string ctx = "UpdateInterface " + name + " (" + what + ")";
  HULL_TRY(wrap(valid_name(name), ctx));

  std::vector<Prefix> addrs;
  for (const IpAddress& a : want.addresses()) {
    HULL_ASSIGN(ip, wrap(parse_ip(a.address()), ctx));
    uint32_t max = ip.family == AF_INET ? 32 : 128;
    if (a.prefix_len() < 1 || a.prefix_len() > max) {
      return fail(Errc::Invalid, ctx + ": address " + a.address() + " has prefix length " +
                                     std::to_string(a.prefix_len()) + ", want 1-" +
                                     std::to_string(max));
    }
    addrs.push_back({ip, static_cast<uint8_t>(a.prefix_len())});
  }

  if (name != l.name) {
    for (const LinkInfo& other : links) {
      if (other.name == name && other.index != l.index) {
        HULL_TRY(wrap(rename_link(nl, other, parking_name(other.index)), ctx));
      }
    }
    HULL_TRY(wrap(rename_link(nl, l, name), ctx));
  }
  if (want.mtu() && want.mtu() != l.mtu) {
    LinkChange c;
    c.index = l.index;
    c.mtu = want.mtu();
    HULL_TRY(wrap(set_link(nl, c, "setting MTU " + std::to_string(want.mtu())), ctx));
  }
  if ((l.flags & kAppliedFlags) != (want.flags() & kAppliedFlags)) {
    LinkChange c = flags_change(l.index, want.flags(), kAppliedFlags);
    HULL_TRY(wrap(set_link(nl, c, "setting the NOARP/PROMISC/ALLMULTI flags"), ctx));
  }

  HULL_ASSIGN(have, dump_addrs(nl));
  for (const AddrInfo& a : have) {
    if (a.index != l.index || !managed_address(a)) continue;
    Prefix p{a.address, a.prefix_len};
    if (std::find(addrs.begin(), addrs.end(), p) != addrs.end()) continue;
    HULL_TRY(wrap(nl.call(del_addr_request(l.index, p, nl.next_seq()),
                          "removing address " + format_prefix(p)),
                  ctx));
  }
  for (const Prefix& p : addrs) {
    HULL_TRY(wrap(nl.call(new_addr_request(l.index, p, nl.next_seq()),
                          "adding address " + format_ip(p.addr) + "/" + std::to_string(p.len)),
                  ctx));
  }
  uint32_t up = want.up() ? static_cast<uint32_t>(IFF_UP) : 0u;
  LinkChange state = flags_change(l.index, up, IFF_UP);
  HULL_TRY(wrap(set_link(nl, state, want.up() ? "setting it up" : "setting it down"), ctx));

  HULL_ASSIGN(after, dump_links(nl));
  HULL_ASSIGN(after_addrs, dump_addrs(nl));
  for (const LinkInfo& x : after) {
    if (x.index == l.index) return to_proto_interface(x, after_addrs);
  }
  return fail(Errc::NotFound, ctx + ": the interface vanished while it was configured");
}

Result<Routes> update_routes(const Routes& want) {
  HULL_ASSIGN(nl, Rtnl::open());
  HULL_ASSIGN(links, dump_links(nl));
  auto index_of = indexes_of(links);
  std::vector<RouteSpec> specs;
  for (const Route& r : want.routes()) {
    HULL_ASSIGN(s, wrap(to_route_spec(r, index_of), "UpdateRoutes"));
    specs.push_back(s);
  }
  // Link routes first: a gateway must be reachable when its route goes in.
  std::stable_partition(specs.begin(), specs.end(),
                        [](const RouteSpec& s) { return !s.gateway.family; });
  HULL_ASSIGN(have, dump_main_routes(nl));
  LinkNames names = names_of(links);
  for (const RouteInfo& r : have) {
    if (!managed_route(r)) continue;
    bool wanted = std::any_of(specs.begin(), specs.end(),
                              [&](const RouteSpec& s) { return same_route(r, s); });
    if (wanted) continue;
    std::string text = to_proto_route(r, names).destination();
    auto st = nl.call(del_route_request(r, nl.next_seq()), "removing the route to " + text);
    if (!st && st.error().sys_errno != ESRCH)
      return fail(std::move(st.error()).wrap("UpdateRoutes"));
  }
  for (const RouteSpec& s : specs) {
    std::string text = format_prefix(s.dst) +
                       (s.gateway.family ? " via " + format_ip(s.gateway) : std::string()) +
                       (s.oif ? " dev " + names[s.oif] : std::string());
    HULL_TRY(wrap(nl.call(new_route_request(s, nl.next_seq()), "adding the route " + text),
                  "UpdateRoutes"));
  }
  return list_routes();
}

Status add_neighbors(const Neighbors& want) {
  HULL_ASSIGN(nl, Rtnl::open());
  HULL_ASSIGN(links, dump_links(nl));
  auto index_of = indexes_of(links);
  for (const Neighbor& n : want.neighbors()) {
    HULL_ASSIGN(s, wrap(to_neigh_spec(n, index_of), "AddNeighbors"));
    HULL_TRY(wrap(nl.call(new_neigh_request(s, nl.next_seq()),
                          "adding neighbour " + n.address() + " lladdr " + n.mac()),
                  "AddNeighbors"));
  }
  return {};
}

}  // namespace hull::agent::net
