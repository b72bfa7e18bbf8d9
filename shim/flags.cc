#include "shim/flags.h"

#include <optional>
#include <string_view>

namespace hull::shim {
namespace {

// A flag that takes a value: where it goes.
std::string* value_flag(ShimFlags& f, std::string_view name) {
  if (name == "namespace") return &f.ns;
  if (name == "id") return &f.id;
  if (name == "address") return &f.address;
  if (name == "publish-binary") return &f.publish_binary;
  if (name == "bundle") return &f.bundle;
  if (name == "socket") return &f.socket;
  return nullptr;
}

bool* bool_flag(ShimFlags& f, std::string_view name) {
  if (name == "debug") return &f.debug;
  if (name == "v" || name == "version") return &f.version;
  return nullptr;
}

// Go's strconv.ParseBool.
Result<bool> parse_bool(std::string_view name, std::string_view v) {
  for (std::string_view t : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (v == t) return true;
  }
  for (std::string_view f : {"0", "f", "F", "false", "FALSE", "False"}) {
    if (v == f) return false;
  }
  return fail(Errc::Invalid, "flag -" + std::string(name) + ": invalid boolean value \"" +
                                 std::string(v) + "\" (use true or false)");
}

}  // namespace

Result<ShimFlags> parse_flags(std::span<const std::string> args) {
  ShimFlags f;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (!flags_done && a == "--") {
      flags_done = true;
      continue;
    }
    if (flags_done || a.size() < 2 || a[0] != '-') {
      if (!f.action.empty()) {
        return fail(Errc::Invalid, "unexpected argument \"" + std::string(a) +
                                       "\" after action \"" + f.action + "\"");
      }
      if (a != "start" && a != "delete") {
        return fail(Errc::Invalid, "unknown action \"" + std::string(a) +
                                       "\": the shim knows \"start\" and \"delete\"");
      }
      f.action = a;
      flags_done = true;  // Go's flag package stops at the first non-flag
      continue;
    }
    std::string_view name = a.substr(a[1] == '-' ? 2 : 1);
    std::optional<std::string_view> value;
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name.empty()) return fail(Errc::Invalid, "bad flag syntax: \"" + std::string(a) + "\"");
    if (std::string* dst = value_flag(f, name)) {
      if (!value) {
        if (i + 1 >= args.size()) {
          return fail(Errc::Invalid, "flag -" + std::string(name) + " needs a value");
        }
        value = args[++i];
      }
      *dst = std::string(*value);
    } else if (bool* b = bool_flag(f, name)) {
      if (value) {
        HULL_ASSIGN(v, parse_bool(name, *value));
        *b = v;
      } else {
        *b = true;
      }
    } else {
      f.unknown.emplace_back(a);
    }
  }
  return f;
}

}  // namespace hull::shim
