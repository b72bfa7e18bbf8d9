#include "agent/engine/signal_grace.h"

#include <charconv>
#include <cstdint>
#include <optional>

namespace hull::engine {
namespace {

// The value of a "Name:\t<value>" line of /proc/<pid>/status.
std::optional<std::string_view> field(std::string_view text, std::string_view name) {
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(name) || line.size() <= name.size() || line[name.size()] != ':') continue;
    line.remove_prefix(name.size() + 1);
    while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
    return line;
  }
  return std::nullopt;
}

// The hex mask of a field.
std::optional<uint64_t> mask(std::string_view text, std::string_view name) {
  auto value = field(text, name);
  if (!value || value->empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), v, 16);
  if (ec != std::errc() || p != value->data() + value->size()) return std::nullopt;
  return v;
}

}  // namespace

bool signal_disposition_set(std::string_view proc_status, int sig) {
  if (sig < 1 || sig > 64) return false;
  uint64_t bit = uint64_t{1} << (sig - 1);
  auto caught = mask(proc_status, "SigCgt");
  auto ignored = mask(proc_status, "SigIgn");
  return (caught && (*caught & bit)) || (ignored && (*ignored & bit));
}

bool settled_for_signal(std::string_view proc_status, int sig) {
  auto state = field(proc_status, "State");
  return state && state->starts_with('S') && signal_disposition_set(proc_status, sig);
}

}  // namespace hull::engine
