#include "common/cgroup/stats.h"

#include <climits>

#include "common/text.h"

namespace hull::cgroup {
namespace {

Result<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  if (!parse_number(s, &v)) return fail(Errc::Invalid, "not a number: \"" + std::string(s) + "\"");
  return v;
}

std::unexpected<Error> line_error(size_t line_no, const std::string& why) {
  return fail(Errc::Invalid, "line " + std::to_string(line_no) + ": " + why);
}

// Calls `each(line, line_no)` for every non-empty line, trimmed.
template <class F>
Status for_lines(std::string_view text, F each) {
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    HULL_TRY(each(line, line_no));
  }
  return {};
}

}  // namespace

Result<std::map<std::string, uint64_t>> parse_flat_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  HULL_TRY(for_lines(text, [&](std::string_view line, size_t line_no) -> Status {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return line_error(line_no, "no value");
    auto v = parse_u64(trim(line.substr(sp + 1)));
    if (!v) return line_error(line_no, v.error().msg);
    out[std::string(line.substr(0, sp))] = *v;
    return {};
  }));
  return out;
}

Result<std::optional<uint64_t>> parse_single_value(std::string_view text) {
  text = trim(text);
  if (text == "max") return std::optional<uint64_t>{};
  HULL_ASSIGN(v, parse_u64(text));
  return std::optional<uint64_t>{v};
}

Result<std::vector<IoDeviceStat>> parse_io_stat(std::string_view text) {
  std::vector<IoDeviceStat> out;
  HULL_TRY(for_lines(text, [&](std::string_view line, size_t line_no) -> Status {
    IoDeviceStat d;
    size_t sp = line.find(' ');
    std::string_view device = line.substr(0, sp);
    size_t colon = device.find(':');
    if (colon == std::string_view::npos) return line_error(line_no, "no major:minor");
    auto maj = parse_u64(device.substr(0, colon));
    auto min = parse_u64(device.substr(colon + 1));
    if (!maj || !min || *maj > UINT32_MAX || *min > UINT32_MAX) {
      return line_error(line_no, "bad major:minor \"" + std::string(device) + "\"");
    }
    d.major = static_cast<uint32_t>(*maj);
    d.minor = static_cast<uint32_t>(*min);
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    while (!rest.empty()) {
      size_t e = rest.find(' ');
      std::string_view kv = rest.substr(0, e);
      rest = e == std::string_view::npos ? std::string_view{} : trim(rest.substr(e + 1));
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) {
        return line_error(line_no, "bad field \"" + std::string(kv) + "\"");
      }
      auto v = parse_u64(kv.substr(eq + 1));
      if (!v) return line_error(line_no, v.error().msg);
      d.fields[std::string(kv.substr(0, eq))] = *v;
    }
    out.push_back(std::move(d));
    return {};
  }));
  return out;
}

Result<std::vector<pid_t>> parse_procs(std::string_view text) {
  std::vector<pid_t> out;
  HULL_TRY(for_lines(text, [&](std::string_view line, size_t line_no) -> Status {
    auto v = parse_u64(line);
    if (!v || *v == 0 || *v > static_cast<uint64_t>(INT_MAX)) {
      return line_error(line_no, "not a pid: \"" + std::string(line) + "\"");
    }
    out.push_back(static_cast<pid_t>(*v));
    return {};
  }));
  return out;
}

}  // namespace hull::cgroup
