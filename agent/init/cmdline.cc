#include "agent/init/cmdline.h"

#include <charconv>

namespace hull::agent::init {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

Result<bool> parse_bool(const std::string& key, const std::string& value) {
  if (value.empty() || value == "1" || value == "y" || value == "yes" || value == "on" ||
      value == "true") {
    return true;
  }
  if (value == "0" || value == "n" || value == "no" || value == "off" || value == "false") {
    return false;
  }
  return fail(Errc::Invalid, key + "=" + value + ": expected 1 or 0");
}

Result<uint32_t> parse_port(const std::string& key, const std::string& value) {
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
  // 0 and 0xffffffff (VMADDR_PORT_ANY) are not ports one can listen on.
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || port == 0 ||
      port == 0xffffffffu) {
    return fail(Errc::Invalid, key + "=" + value + ": expected a vsock port from 1 to 4294967294");
  }
  return port;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> split_cmdline(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_blank(text[i])) ++i;
    if (i == text.size()) break;
    std::string key;
    std::string value;
    bool in_quote = false;
    bool in_value = false;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (c == '"') {
        in_quote = !in_quote;
        continue;
      }
      if (!in_quote && is_blank(c)) break;
      if (c == '=' && !in_value) {
        in_value = true;
        continue;
      }
      (in_value ? value : key) += c;
    }
    params.emplace_back(std::move(key), std::move(value));
  }
  return params;
}

Result<ParsedCmdline> parse_cmdline(std::string_view text) {
  if (text.size() > kMaxCmdlineBytes) {
    return fail(Errc::Invalid, "kernel command line of " + std::to_string(text.size()) +
                                   " bytes is longer than the limit of " +
                                   std::to_string(kMaxCmdlineBytes));
  }
  ParsedCmdline out;
  AgentConfig& c = out.config;
  for (auto& [key, value] : split_cmdline(text)) {
    if (!key.starts_with("hull.")) continue;
    if (key == "hull.log") {
      if (!log::parse_level(value, &c.log_level)) {
        return fail(Errc::Invalid, key + "=" + value + ": expected debug, info, warn or error");
      }
    } else if (key == "hull.port") {
      HULL_ASSIGN(port, parse_port(key, value));
      c.port = port;
    } else if (key == "hull.debug_shell") {
      HULL_ASSIGN(on, parse_bool(key, value));
      c.debug_shell = on;
    } else if (key == "hull.test") {
      if (value == "poweroff") {
        c.test = TestAction::PowerOff;
      } else if (value.empty() || value == "none") {
        c.test = TestAction::None;
      } else {
        return fail(Errc::Invalid, key + "=" + value + ": expected poweroff or none");
      }
    } else {
      out.unknown.push_back(value.empty() ? key : key + "=" + value);
    }
  }
  return out;
}

}  // namespace hull::agent::init
