#include "runtime/container/record.h"

#include <limits>

#include "runtime/container/container.h"

namespace hull::container {
namespace {

using Json = nlohmann::json;

std::unexpected<Error> bad(std::string_view origin, const std::string& key,
                           const std::string& rule) {
  return fail(Errc::Invalid,
              std::string(origin) + ": hull" + (key.empty() ? "" : "." + key) + ": " + rule);
}

Result<std::string> string_at(const Json& h, const char* key, std::string_view origin) {
  auto it = h.find(key);
  if (it == h.end()) return std::string();
  if (!it->is_string()) return bad(origin, key, "must be a string");
  return it->get<std::string>();
}

Result<std::vector<VmProcess>> procs_from(const Json& j, std::string_view origin) {
  if (!j.is_array()) return bad(origin, "procs", "must be an array");
  std::vector<VmProcess> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& p = j[i];
    std::string at = "procs[" + std::to_string(i) + "]";
    if (!p.is_object()) return bad(origin, at, "must be an object");
    VmProcess v;
    if (auto n = p.find("name"); n != p.end()) {
      if (!n->is_string()) return bad(origin, at + ".name", "must be a string");
      v.name = n->get<std::string>();
    }
    if (auto n = p.find("pid"); n != p.end()) {
      if (!n->is_number_integer() || n->get<int64_t>() < 0 ||
          n->get<int64_t>() > std::numeric_limits<pid_t>::max()) {
        return bad(origin, at + ".pid", "must be an integer between 0 and 2147483647");
      }
      v.pid = static_cast<pid_t>(n->get<int64_t>());
    }
    if (auto n = p.find("start"); n != p.end()) {
      bool natural = n->is_number_unsigned() || (n->is_number_integer() && n->get<int64_t>() >= 0);
      if (!natural) return bad(origin, at + ".start", "must be a non-negative integer");
      v.start_time = n->get<uint64_t>();
    }
    out.push_back(std::move(v));
  }
  return out;
}

Result<NetworkRecord> network_from(const Json& j, std::string_view origin) {
  if (!j.is_object()) return bad(origin, "network", "must be an object");
  NetworkRecord n;
  if (auto it = j.find("netns"); it != j.end()) {
    if (!it->is_string()) return bad(origin, "network.netns", "must be a string");
    n.netns = it->get<std::string>();
  }
  if (auto it = j.find("links"); it != j.end()) {
    if (!it->is_array()) return bad(origin, "network.links", "must be an array of strings");
    for (const auto& l : *it) {
      if (!l.is_string()) return bad(origin, "network.links", "must be an array of strings");
      n.links.push_back(l.get<std::string>());
    }
  }
  return n;
}

Result<oci::Hooks> hooks_from(const Json& j, std::string_view origin) {
  auto spec = oci::spec_from_json(Json{{"ociVersion", "1.0.0"}, {"hooks", j}},
                                  std::string(origin) + ": hull");
  if (!spec) return fail(std::move(spec.error()));
  return spec->hooks.value_or(oci::Hooks{});
}

}  // namespace

Json record_to_json(const Record& r) {
  Json h = Json::object();
  if (r.hooks) {
    oci::Spec spec;
    spec.hooks = r.hooks;
    h["hooks"] = oci::to_json(spec)["hooks"];
  }
  if (r.host_cgroup) h["host_cgroup"] = *r.host_cgroup;
  if (!r.sandbox_dir.empty()) h["sandbox_dir"] = r.sandbox_dir;
  if (!r.vsock_socket.empty()) h["vsock_socket"] = r.vsock_socket;
  if (!r.procs.empty()) {
    Json procs = Json::array();
    for (const auto& p : r.procs) {
      procs.push_back({{"name", p.name}, {"pid", p.pid}, {"start", p.start_time}});
    }
    h["procs"] = std::move(procs);
  }
  if (r.network) h["network"] = {{"netns", r.network->netns}, {"links", r.network->links}};
  if (r.paused_from) h["paused_from"] = std::string(oci::status_name(*r.paused_from));
  return h;
}

Result<Record> record_from_json(oci::State state, std::string_view origin) {
  Record r;
  const Json h = std::move(state.hull);
  state.hull = Json::object();
  r.state = std::move(state);
  if (!h.is_object()) return bad(origin, "", "must be an object");
  if (auto it = h.find("hooks"); it != h.end()) {
    HULL_ASSIGN(hooks, hooks_from(*it, origin));
    r.hooks = std::move(hooks);
  }
  if (auto it = h.find("host_cgroup"); it != h.end()) r.host_cgroup = *it;
  HULL_ASSIGN(dir, string_at(h, "sandbox_dir", origin));
  r.sandbox_dir = std::move(dir);
  HULL_ASSIGN(sock, string_at(h, "vsock_socket", origin));
  r.vsock_socket = std::move(sock);
  if (auto it = h.find("procs"); it != h.end()) {
    HULL_ASSIGN(procs, procs_from(*it, origin));
    r.procs = std::move(procs);
  }
  if (auto it = h.find("network"); it != h.end()) {
    HULL_ASSIGN(net, network_from(*it, origin));
    r.network = std::move(net);
  }
  HULL_ASSIGN(from, string_at(h, "paused_from", origin));
  if (!from.empty()) {
    auto st = oci::parse_status(from);
    if (!st || (*st != oci::ContainerStatus::Created && *st != oci::ContainerStatus::Running)) {
      return bad(origin, "paused_from", "must be \"created\" or \"running\"");
    }
    r.paused_from = *st;
  }
  return r;
}

void apply_vm_report(Record& r, const Json& body) {
  // Each field on its own: a malformed one (the monitor's bug) leaves that
  // field as it was and the others still count.
  for (const char* k : {"sandbox_dir", "vsock_socket", "procs", "network"}) {
    if (!body.contains(k)) continue;
    oci::State carrier;
    carrier.hull = Json{{k, body[k]}};
    auto got = record_from_json(std::move(carrier), "the monitor's report");
    if (!got) continue;
    if (got->sandbox_dir.size()) r.sandbox_dir = got->sandbox_dir;
    if (got->vsock_socket.size()) r.vsock_socket = got->vsock_socket;
    if (std::string_view(k) == "procs") r.procs = got->procs;
    if (got->network) r.network = got->network;
  }
}

Status save(oci::StateStore& store, const Record& r) {
  oci::State s = r.state;
  s.hull = record_to_json(r);
  return store.save(s);
}

namespace {

std::string state_path(const oci::StateStore& store, const std::string& id) {
  return store.dir(id) + "/state.json";
}

}  // namespace

Status LockedRecord::save() {
  return container::save(store_, record);
}

Result<LockedRecord> load(const Context& ctx, const std::string& id) {
  oci::StateStore store(ctx.root);
  HULL_ASSIGN(lock, store.lock(id));
  HULL_ASSIGN(state, store.load(id));
  HULL_ASSIGN(record, record_from_json(std::move(state), state_path(store, id)));
  return LockedRecord(std::move(store), std::move(lock), std::move(record));
}

Result<Record> load_unlocked(const Context& ctx, const std::string& id) {
  oci::StateStore store(ctx.root);
  HULL_ASSIGN(state, store.load(id));
  return record_from_json(std::move(state), state_path(store, id));
}

}  // namespace hull::container
