#include "shim/record.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/container_id.h"
#include "common/file.h"
#include "common/proc_stat.h"
#include "runtime/container/proc.h"
#include "runtime/sandbox/dir_guard.h"

namespace hull::shim {
namespace {

using Json = nlohmann::json;

Json proc_json(const ProcRef& p) {
  return {{"name", p.name}, {"pid", p.pid}, {"start", p.start}};
}

Result<ProcRef> parse_proc(const Json& j, const std::string& where) {
  if (!j.is_object()) return fail(Errc::Invalid, "pod record: " + where + ": not an object");
  ProcRef p;
  auto name = j.find("name");
  auto pid = j.find("pid");
  auto start = j.find("start");
  if (name == j.end() || !name->is_string()) {
    return fail(Errc::Invalid, "pod record: " + where + ".name: missing or not a string");
  }
  if (pid == j.end() || !pid->is_number_integer() || pid->get<int64_t>() < 0 ||
      pid->get<int64_t>() > INT32_MAX) {
    return fail(Errc::Invalid, "pod record: " + where + ".pid: missing or not a pid");
  }
  if (start == j.end() || !start->is_number_unsigned()) {
    return fail(Errc::Invalid, "pod record: " + where + ".start: missing or not a number");
  }
  p.name = name->get<std::string>();
  p.pid = static_cast<pid_t>(pid->get<int64_t>());
  p.start = start->get<uint64_t>();
  return p;
}

Result<std::string> string_field(const Json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return fail(Errc::Invalid, std::string("pod record: ") + key + ": missing");
    return std::string();
  }
  if (!it->is_string()) {
    return fail(Errc::Invalid, std::string("pod record: ") + key + ": not a string");
  }
  return it->get<std::string>();
}

}  // namespace

Result<std::string> pod_root(std::string_view ns) {
  if (auto st = validate_container_id(ns); !st) {
    return fail(std::move(st.error()).wrap("containerd namespace"));
  }
  return std::string(kShimRoot) + "/" + std::string(ns);
}

std::string record_path(const std::string& root, std::string_view pod) {
  return root + "/pods/" + std::string(pod) + ".json";
}

std::string record_json(const PodRecord& r) {
  Json procs = Json::array();
  for (const auto& p : r.procs) procs.push_back(proc_json(p));
  Json j = {{"pod", r.pod},
            {"address", r.address},
            {"shim", proc_json(r.shim)},
            {"sandbox_dir", r.sandbox_dir},
            {"socket_dir", r.socket_dir},
            {"procs", procs}};
  return j.dump() + "\n";
}

Result<PodRecord> parse_record(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(Errc::Invalid, "pod record: not a JSON object");
  }
  PodRecord r;
  HULL_ASSIGN(pod, string_field(j, "pod", true));
  HULL_ASSIGN(address, string_field(j, "address", false));
  HULL_ASSIGN(sandbox_dir, string_field(j, "sandbox_dir", false));
  HULL_ASSIGN(socket_dir, string_field(j, "socket_dir", false));
  r.pod = pod;
  r.address = address;
  r.sandbox_dir = sandbox_dir;
  r.socket_dir = socket_dir;
  auto shim = j.find("shim");
  if (shim == j.end()) return fail(Errc::Invalid, "pod record: shim: missing");
  HULL_ASSIGN(s, parse_proc(*shim, "shim"));
  r.shim = s;
  if (auto procs = j.find("procs"); procs != j.end()) {
    if (!procs->is_array()) return fail(Errc::Invalid, "pod record: procs: not an array");
    for (size_t i = 0; i < procs->size(); ++i) {
      HULL_ASSIGN(p, parse_proc((*procs)[i], "procs[" + std::to_string(i) + "]"));
      r.procs.push_back(p);
    }
  }
  return r;
}

Status write_record(const std::string& path, const PodRecord& r) {
  HULL_TRY(sandbox::make_dirs(path.substr(0, path.rfind('/'))));
  return write_file_atomic(path, record_json(r), 0600);
}

Result<std::optional<PodRecord>> read_record(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) return std::optional<PodRecord>();
  HULL_ASSIGN(text, read_file(path, kMaxRecordBytes));
  HULL_ASSIGN(r, wrap(parse_record(text), path));
  return std::optional<PodRecord>(std::move(r));
}

ProcRef self_ref(std::string name) {
  ProcRef p{std::move(name), ::getpid(), 0};
  if (auto st = read_proc_stat(p.pid, kProcStatStartTime)) p.start = st->start_time;
  return p;
}

}  // namespace hull::shim
