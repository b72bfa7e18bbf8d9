// hull update: changes the container's cgroup limits, from runc's flags or
// from a linux.resources JSON file (-r FILE, "-" for stdin): the CPU, cpuset
// and pids values in its host cgroup (as create writes them, runtime/
// hostcgroup), then every limit in its guest. The VM's own size (vCPUs,
// memory) stays what create gave it.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "common/file.h"
#include "runtime/cli/command.h"

namespace hull::cli {
namespace {

using Json = nlohmann::json;

struct UpdateOptions {
  std::string id;
  std::string resources;
  std::map<std::string, std::string> flags;  // flag name -> value as given
};

// docker/go-units RAMInBytes: "512", "64m", "1g", "1.5GiB" (binary units).
Result<int64_t> ram_in_bytes(const std::string& flag, const std::string& v) {
  if (v == "-1") return -1;
  size_t i = 0;
  while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
  std::string unit = v.substr(i);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (unit.size() == 2 && unit[1] == 'i') unit.pop_back();
  double mult = 1;
  if (unit == "k")
    mult = 1024.0;
  else if (unit == "m")
    mult = 1024.0 * 1024;
  else if (unit == "g")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "t")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty())
    i = 0;
  if (i == 0) return fail(Errc::Invalid, "invalid value for " + flag + ": \"" + v + "\"");
  return static_cast<int64_t>(std::stod(v.substr(0, i)) * mult);
}

Result<int64_t> integer(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0) {
    return fail(Errc::Invalid, "invalid value for " + flag + ": \"" + v + "\"");
  }
  return n;
}

Result<std::string> resources_json(const UpdateOptions& o) {
  if (!o.resources.empty()) {
    std::string text;
    if (o.resources == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      HULL_ASSIGN(t, read_file(o.resources, 1 << 20));
      text = std::move(t);
    }
    Json j = Json::parse(text, nullptr, false);
    if (!j.is_object()) {
      return fail(Errc::Invalid, "--resources " + o.resources + ": not a JSON object");
    }
    return j.dump();
  }
  Json r = Json::object();
  for (const auto& [flag, v] : o.flags) {
    if (flag == "memory" || flag == "memory-reservation" || flag == "memory-swap" ||
        flag == "kernel-memory" || flag == "kernel-memory-tcp") {
      HULL_ASSIGN(n, ram_in_bytes("--" + flag, v));
      const char* key = flag == "memory"               ? "limit"
                        : flag == "memory-reservation" ? "reservation"
                        : flag == "memory-swap"        ? "swap"
                        : flag == "kernel-memory"      ? "kernel"
                                                       : "kernelTCP";
      r["memory"][key] = n;
    } else if (flag == "cpuset-cpus" || flag == "cpuset-mems") {
      r["cpu"][flag == "cpuset-cpus" ? "cpus" : "mems"] = v;
    } else {
      HULL_ASSIGN(n, integer("--" + flag, v));
      if (flag == "cpu-period") r["cpu"]["period"] = n;
      if (flag == "cpu-quota") r["cpu"]["quota"] = n;
      if (flag == "cpu-share") r["cpu"]["shares"] = n;
      if (flag == "cpu-rt-period") r["cpu"]["realtimePeriod"] = n;
      if (flag == "cpu-rt-runtime") r["cpu"]["realtimeRuntime"] = n;
      if (flag == "pids-limit") r["pids"]["limit"] = n;
      if (flag == "blkio-weight") r["blockIO"]["weight"] = n;
    }
  }
  return r.dump();
}

}  // namespace

Command update_command() {
  return {"update", "update container resource constraints", [](CLI::App& sub) -> Action {
            auto o = std::make_shared<UpdateOptions>();
            sub.add_option("id", o->id, "the container's id")->required();
            sub.add_option("-r,--resources", o->resources,
                           "path to a file containing the resources to update or '-' to read "
                           "from the standard input");
            for (const char* f : {"blkio-weight", "cpu-period", "cpu-quota", "cpu-share",
                                  "cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus", "cpuset-mems",
                                  "kernel-memory", "kernel-memory-tcp", "memory",
                                  "memory-reservation", "memory-swap", "pids-limit"}) {
              std::string name = f;
              sub.add_option_function<std::string>(
                  "--" + name, [o, name](const std::string& v) { o->flags[name] = v; },
                  "set " + name + " (runc's meaning)");
            }
            return [o](const GlobalOptions& g) {
              auto r = resources_json(*o);
              if (!r) return report_error(r.error());
              if (auto st = container::update(context_of(g), o->id, *r); !st) {
                return report_error(st.error());
              }
              return 0;
            };
          }};
}

}  // namespace hull::cli
