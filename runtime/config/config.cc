#include "runtime/config/config.h"

#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "common/file.h"

namespace hull::config {
namespace {

using Json = nlohmann::json;

constexpr uint32_t kMaxVcpus = 64;
constexpr uint32_t kMinMemoryMib = 64;
constexpr uint32_t kMaxMemoryMib = 1 << 20;
constexpr uint32_t kMinStartTimeoutS = 10;
constexpr uint32_t kMaxStartTimeoutS = 3600;
constexpr uint32_t kMaxConsoleLogMib = 1024;

struct Ctx {
  std::string origin;
  std::unexpected<Error> err(const std::string& key, const std::string& rule) const {
    return fail(Errc::Invalid, origin + ": " + key + ": " + rule);
  }
};

Status read_string(const Ctx& c, const Json& v, const std::string& key, std::string* out,
                   bool absolute_path) {
  if (!v.is_string()) return c.err(key, "must be a string");
  std::string s = v.get<std::string>();
  if (absolute_path && !s.empty() && s[0] != '/') return c.err(key, "must be an absolute path");
  *out = std::move(s);
  return {};
}

Status read_bool(const Ctx& c, const Json& v, const std::string& key, bool* out) {
  if (!v.is_boolean()) return c.err(key, "must be true or false");
  *out = v.get<bool>();
  return {};
}

Status read_u32(const Ctx& c, const Json& v, const std::string& key, uint32_t lo, uint32_t hi,
                uint32_t* out) {
  std::string rule =
      "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi);
  if (!v.is_number_integer()) return c.err(key, rule);
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u < lo || u > hi) return c.err(key, rule);
    *out = static_cast<uint32_t>(u);
    return {};
  }
  auto i = v.get<int64_t>();
  if (i < static_cast<int64_t>(lo) || i > static_cast<int64_t>(hi)) return c.err(key, rule);
  *out = static_cast<uint32_t>(i);
  return {};
}

using Handler = std::function<Status(const Json&)>;

// Walks one JSON object: every key must have a handler.
Status read_object(const Ctx& c, const Json& obj, const std::string& prefix,
                   const std::map<std::string, Handler>& handlers) {
  std::string where = prefix.empty() ? "top level" : prefix;
  if (!obj.is_object()) return c.err(where, "must be an object");
  for (const auto& [key, value] : obj.items()) {
    std::string full = prefix.empty() ? key : prefix + "." + key;
    auto it = handlers.find(key);
    if (it == handlers.end()) {
      std::string known;
      for (const auto& [k, h] : handlers) known += (known.empty() ? "" : ", ") + k;
      return c.err(full, "unknown key (known keys here: " + known + ")");
    }
    HULL_TRY(it->second(value));
  }
  return {};
}

}  // namespace

std::string_view accel_name(Accel a) {
  switch (a) {
    case Accel::Auto:
      return "auto";
    case Accel::Kvm:
      return "kvm";
    case Accel::Tcg:
      return "tcg";
  }
  return "auto";
}

std::string_view cache_name(VirtiofsCache c) {
  switch (c) {
    case VirtiofsCache::Auto:
      return "auto";
    case VirtiofsCache::Always:
      return "always";
    case VirtiofsCache::Never:
      return "never";
  }
  return "auto";
}

Result<Config> parse(std::string_view text, std::string_view origin) {
  Ctx c{std::string(origin)};
  Json root;
  try {
    root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return fail(Errc::Invalid, c.origin + ": not valid JSON: " + e.what());
  }
  Config cfg;
  cfg.source = c.origin;
  auto& h = cfg.hypervisor;
  auto& vm = cfg.vm;
  auto& fs = cfg.virtiofsd;

  std::map<std::string, Handler> hypervisor{
      {"path", [&](const Json& v) { return read_string(c, v, "hypervisor.path", &h.path, true); }},
      {"accel",
       [&](const Json& v) -> Status {
         std::string s;
         HULL_TRY(read_string(c, v, "hypervisor.accel", &s, false));
         if (s == "auto")
           h.accel = Accel::Auto;
         else if (s == "kvm")
           h.accel = Accel::Kvm;
         else if (s == "tcg")
           h.accel = Accel::Tcg;
         else
           return c.err("hypervisor.accel", "must be one of auto, kvm, tcg (got \"" + s + "\")");
         return {};
       }},
      {"sandbox", [&](const Json& v) { return read_bool(c, v, "hypervisor.sandbox", &h.sandbox); }},
  };
  std::map<std::string, Handler> vm_keys{
      {"vcpus", [&](const Json& v) { return read_u32(c, v, "vm.vcpus", 1, kMaxVcpus, &vm.vcpus); }},
      {"memory_mib",
       [&](const Json& v) {
         return read_u32(c, v, "vm.memory_mib", kMinMemoryMib, kMaxMemoryMib, &vm.memory_mib);
       }},
      {"max_vcpus",
       [&](const Json& v) { return read_u32(c, v, "vm.max_vcpus", 0, 255, &vm.max_vcpus); }},
      {"max_memory_mib",
       [&](const Json& v) -> Status {
         HULL_TRY(read_u32(c, v, "vm.max_memory_mib", 0, kMaxMemoryMib, &vm.max_memory_mib));
         if (vm.max_memory_mib != 0 && vm.max_memory_mib < kMinMemoryMib) {
           return c.err("vm.max_memory_mib",
                        "must be 0 (the host's RAM) or at least " + std::to_string(kMinMemoryMib));
         }
         return Status{};
       }},
      {"allowed_annotations",
       [&](const Json& v) -> Status {
         const std::string key = "vm.allowed_annotations";
         std::string rule = std::string("must be an array of annotation names out of ") +
                            kAnnotationVcpus + ", " + kAnnotationMemoryMib;
         if (!v.is_array()) return c.err(key, rule);
         vm.allowed_annotations.clear();
         for (size_t i = 0; i < v.size(); ++i) {
           const Json& e = v[i];
           if (!e.is_string()) return c.err(key + "[" + std::to_string(i) + "]", rule);
           std::string name = e.get<std::string>();
           if (name != kAnnotationVcpus && name != kAnnotationMemoryMib) {
             return c.err(key + "[" + std::to_string(i) + "]",
                          "\"" + name + "\" is not an annotation hull knows; " + rule);
           }
           vm.allowed_annotations.push_back(std::move(name));
         }
         return {};
       }},
      {"kernel", [&](const Json& v) { return read_string(c, v, "vm.kernel", &vm.kernel, true); }},
      {"initrd", [&](const Json& v) { return read_string(c, v, "vm.initrd", &vm.initrd, true); }},
      {"kernel_params",
       [&](const Json& v) {
         return read_string(c, v, "vm.kernel_params", &vm.kernel_params, false);
       }},
      {"start_timeout_s",
       [&](const Json& v) {
         return read_u32(c, v, "vm.start_timeout_s", kMinStartTimeoutS, kMaxStartTimeoutS,
                         &vm.start_timeout_s);
       }},
      {"console_log_mib",
       [&](const Json& v) {
         return read_u32(c, v, "vm.console_log_mib", 1, kMaxConsoleLogMib, &vm.console_log_mib);
       }},
  };
  std::map<std::string, Handler> virtiofsd{
      {"path", [&](const Json& v) { return read_string(c, v, "virtiofsd.path", &fs.path, true); }},
      {"cache",
       [&](const Json& v) -> Status {
         std::string s;
         HULL_TRY(read_string(c, v, "virtiofsd.cache", &s, false));
         if (s == "auto")
           fs.cache = VirtiofsCache::Auto;
         else if (s == "always")
           fs.cache = VirtiofsCache::Always;
         else if (s == "never")
           fs.cache = VirtiofsCache::Never;
         else
           return c.err("virtiofsd.cache",
                        "must be one of auto, always, never (got \"" + s + "\")");
         return {};
       }},
  };
  auto& jl = cfg.jail;
  std::map<std::string, Handler> jail_keys{
      {"user",
       [&](const Json& v) -> Status {
         HULL_TRY(read_string(c, v, "jail.user", &jl.user, false));
         if (jl.user.empty())
           return c.err("jail.user", "must name a user (or a uid), not be empty");
         return {};
       }},
      {"group", [&](const Json& v) { return read_string(c, v, "jail.group", &jl.group, false); }},
  };
  std::map<std::string, Handler> top{
      {"jail", [&](const Json& v) { return read_object(c, v, "jail", jail_keys); }},
      {"hypervisor", [&](const Json& v) { return read_object(c, v, "hypervisor", hypervisor); }},
      {"vm", [&](const Json& v) { return read_object(c, v, "vm", vm_keys); }},
      {"virtiofsd", [&](const Json& v) { return read_object(c, v, "virtiofsd", virtiofsd); }},
      {"log_level",
       [&](const Json& v) -> Status {
         HULL_TRY(read_string(c, v, "log_level", &cfg.log_level, false));
         const auto& l = cfg.log_level;
         if (l != "debug" && l != "info" && l != "warn" && l != "error") {
           return c.err("log_level", "must be one of debug, info, warn, error (got \"" + l + "\")");
         }
         return {};
       }},
  };
  HULL_TRY(read_object(c, root, "", top));
  if (vm.max_vcpus != 0 && vm.vcpus > vm.max_vcpus) {
    return c.err("vm.vcpus", std::to_string(vm.vcpus) + " is above vm.max_vcpus (" +
                                 std::to_string(vm.max_vcpus) + "): lower one or raise the other");
  }
  if (vm.max_memory_mib != 0 && vm.memory_mib > vm.max_memory_mib) {
    return c.err("vm.memory_mib", std::to_string(vm.memory_mib) + " is above vm.max_memory_mib (" +
                                      std::to_string(vm.max_memory_mib) +
                                      "): lower one or raise the other");
  }
  return cfg;
}

Result<Config> load() {
  const char* env = std::getenv(kConfigEnv);
  std::string path = (env && *env) ? env : kDefaultConfigPath;
  auto text = read_file(path, kMaxConfigFileBytes);
  if (!text) {
    if (text.error().sys_errno == ENOENT && !(env && *env)) {
      Config defaults;
      defaults.source = "defaults";
      return defaults;
    }
    return fail(std::move(text.error())
                    .wrap(std::string("reading hull configuration") +
                          (env && *env ? " ($HULL_CONFIG)" : "")));
  }
  return parse(*text, path);
}

std::string virtiofsd_path(const Config& c) {
  if (!c.virtiofsd.path.empty()) return c.virtiofsd.path;
  if (::access("/usr/libexec/virtiofsd", X_OK) == 0) return "/usr/libexec/virtiofsd";
  return "/usr/lib/qemu/virtiofsd";
}

std::string to_json_text(const Config& c) {
  Json j = {
      {"hypervisor",
       {{"path", c.hypervisor.path},
        {"accel", accel_name(c.hypervisor.accel)},
        {"sandbox", c.hypervisor.sandbox}}},
      {"vm",
       {{"vcpus", c.vm.vcpus},
        {"memory_mib", c.vm.memory_mib},
        {"max_vcpus", c.vm.max_vcpus},
        {"max_memory_mib", c.vm.max_memory_mib},
        {"allowed_annotations", c.vm.allowed_annotations},
        {"kernel", c.vm.kernel},
        {"initrd", c.vm.initrd},
        {"kernel_params", c.vm.kernel_params},
        {"start_timeout_s", c.vm.start_timeout_s},
        {"console_log_mib", c.vm.console_log_mib}}},
      {"virtiofsd", {{"path", c.virtiofsd.path}, {"cache", cache_name(c.virtiofsd.cache)}}},
      {"jail", {{"user", c.jail.user}, {"group", c.jail.group}}},
      {"log_level", c.log_level},
  };
  return j.dump(2) + "\n";
}

}  // namespace hull::config
