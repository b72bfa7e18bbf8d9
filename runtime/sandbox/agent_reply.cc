#include "runtime/sandbox/agent_reply.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "agent/proto/constants.h"
#include "agent/proto/error_codec.h"
#include "runtime/sandbox/agent_reply_check.h"

namespace hull::sandbox {
namespace detail {

std::unexpected<Error> bad(std::string_view call, const std::string& what) {
  return fail(Errc::GuestProtocol, "agent reply " + std::string(call) + ": " + what);
}

std::string quoted(std::string_view s) {
  return "\"" + printable(s, kQuoteBytes) + "\"";
}

// A string field: at most `max_bytes`, no NUL, UTF-8.
Status check_text(std::string_view call, const std::string& field, std::string_view s,
                  size_t max_bytes) {
  if (s.size() > max_bytes) {
    return bad(call, field + " of " + std::to_string(s.size()) + " bytes (at most " +
                         std::to_string(max_bytes) + ")");
  }
  if (s.find('\0') != std::string_view::npos)
    return bad(call, field + " " + quoted(s) + " has a NUL");
  if (!valid_utf8(s)) return bad(call, field + " " + quoted(s) + " is not UTF-8");
  return {};
}

// check_text, and no control characters either.
Status check_plain_text(std::string_view call, const std::string& field, std::string_view s,
                        size_t max_bytes) {
  HULL_TRY(check_text(call, field, s, max_bytes));
  if (printable(s) != s) return bad(call, field + " " + quoted(s) + " has control characters");
  return {};
}

Status check_at_most(std::string_view call, const std::string& field, uint64_t v, uint64_t max) {
  if (v > max) {
    return bad(call, field + " " + std::to_string(v) + " out of range (at most " +
                         std::to_string(max) + ")");
  }
  return {};
}

}  // namespace detail

namespace {

using namespace detail;

// The length of the UTF-8 sequence at s[i], with its code point in *cp; 0 when
// the bytes there are not UTF-8.
size_t decode_utf8(std::string_view s, size_t i, char32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = byte(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n = 0;
  char32_t v = 0;
  char32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (byte(k) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

Status check_container_id(std::string_view call, const std::string& field, std::string_view id) {
  if (id.empty()) return bad(call, field + " is empty");
  HULL_TRY(check_at_most(call, field + " length", id.size(), kMaxContainerIdBytes));
  if (id == "." || id == "..")
    return bad(call, field + " " + quoted(id) + " is not a container id");
  for (char c : id) {
    bool good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '+' || c == '-' || c == '.';
    if (!good) return bad(call, field + " " + quoted(id) + " is not a container id");
  }
  return {};
}

}  // namespace

bool valid_utf8(std::string_view s) {
  char32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = decode_utf8(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    size_t n = decode_utf8(s, i, &cp);
    std::string_view piece = (n == 0 || is_control(cp)) ? std::string_view("?") : s.substr(i, n);
    if (piece.size() > max_bytes - out.size()) {
      out += "...";
      break;
    }
    out += piece;
    i += n == 0 ? 1 : n;
  }
  return out;
}

Error agent_error(const grpc::Status& st, std::string_view call) {
  // The agent names the Errc in the status details (agent/proto/error_codec.h).
  Errc code = agent::errc_for_status(st);
  return Error{code, 0,
               "agent " + std::string(call) + ": " +
                   printable(st.error_message(), kMaxAgentErrorBytes) + " (gRPC code " +
                   std::to_string(static_cast<int>(st.error_code())) + ")"};
}

Result<ExitStatus> parse_wait(const agent::WaitProcessResponse& r) {
  constexpr std::string_view call = "WaitProcess";
  int32_t status = r.exit_status();
  uint32_t sig = r.signal();
  if (status < 0 || status > 255) {
    return bad(call, "exit_status " + std::to_string(status) + " out of range (0-255)");
  }
  if (!r.signaled()) {
    if (sig != 0) return bad(call, "signal " + std::to_string(sig) + " without signaled");
    return ExitStatus{status, false, 0};
  }
  if (sig < 1 || sig > 64) {
    return bad(call, "signal " + std::to_string(sig) + " out of range (1-64)");
  }
  if (status != 128 + static_cast<int>(sig)) {
    return bad(call, "exit_status " + std::to_string(status) + " with signal " +
                         std::to_string(sig) + " (a signaled exit is 128 + signal)");
  }
  return ExitStatus{status, true, static_cast<int>(sig)};
}

Result<size_t> parse_written(const agent::WriteStdinResponse& r, size_t sent) {
  if (r.written() > sent) {
    return bad("WriteStdin", "written " + std::to_string(r.written()) + " of " +
                                 std::to_string(sent) + " bytes sent");
  }
  return static_cast<size_t>(r.written());
}

Status check_io_chunk(const agent::IoChunk& c, std::string_view call) {
  return check_at_most(call, "data size", c.data().size(), agent::kMaxIoChunkBytes);
}

Result<agent::CgroupStats> parse_stats(const agent::StatsContainerResponse& r) {
  constexpr std::string_view call = "StatsContainer";
  if (!r.has_cgroup()) return bad(call, "no cgroup");
  const agent::CgroupStats& c = r.cgroup();
  struct Bound {
    const char* field;
    uint64_t value;
    uint64_t max;
  };
  const Bound bounds[] = {
      {"cgroup.cpu_usage_usec", c.cpu_usage_usec(), kMaxCpuUsec},
      {"cgroup.cpu_user_usec", c.cpu_user_usec(), kMaxCpuUsec},
      {"cgroup.cpu_system_usec", c.cpu_system_usec(), kMaxCpuUsec},
      {"cgroup.memory_current", c.memory_current(), kMaxMemoryBytes},
      {"cgroup.memory_max", c.memory_max(), kMaxMemoryBytes},
      {"cgroup.memory_swap_current", c.memory_swap_current(), kMaxMemoryBytes},
      {"cgroup.pids_current", c.pids_current(), kMaxGuestPid},
      {"cgroup.pids_max", c.pids_max(), kMaxGuestPid},
  };
  for (const Bound& b : bounds) HULL_TRY(check_at_most(call, b.field, b.value, b.max));
  HULL_TRY(check_at_most(call, "cgroup.cpu_throttled_usec", c.cpu_throttled_usec(), kMaxCpuUsec));
  HULL_TRY(
      check_at_most(call, "cgroup.memory_stat count", c.memory_stat().size(), kMaxMemoryStatKeys));
  for (const auto& [k, v] : c.memory_stat()) {
    if (k.empty() || k.size() > kMaxMemoryStatKeyBytes ||
        k.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
      return bad(call, "cgroup.memory_stat key " + quoted(k) +
                           " is not a memory.stat name (a-z, 0-9, _; at most " +
                           std::to_string(kMaxMemoryStatKeyBytes) + " bytes)");
    }
  }
  HULL_TRY(check_at_most(call, "cgroup.io_devices count", c.io_devices().size(), kMaxIoDevices));
  for (int i = 0; i < c.io_devices_size(); ++i) {
    const agent::IoDeviceStats& d = c.io_devices(i);
    const std::string at = "cgroup.io_devices[" + std::to_string(i) + "]";
    HULL_TRY(check_at_most(call, at + ".major", d.major(), kMaxDeviceMajor));
    HULL_TRY(check_at_most(call, at + ".minor", d.minor(), kMaxDeviceMinor));
  }
  return c;
}

Result<std::string> parse_oom_event(const agent::OomEvent& e) {
  HULL_TRY(check_container_id("OomEvents", "container_id", e.container_id()));
  return e.container_id();
}

Status check_health(const agent::HealthResponse& r) {
  if (r.status() != agent::HealthResponse::SERVING) {
    return fail(Errc::NotRunning,
                "agent Health: not serving (status " + std::to_string(r.status()) + ")");
  }
  return {};
}

Result<agent::GuestDetailsResponse> parse_guest_details(agent::GuestDetailsResponse r) {
  constexpr std::string_view call = "GetGuestDetails";
  const std::pair<const char*, const std::string*> texts[] = {
      {"kernel_release", &r.kernel_release()},
      {"kernel_version", &r.kernel_version()},
      {"machine", &r.machine()},
      {"agent_version", &r.agent_version()},
      {"agent_commit", &r.agent_commit()},
  };
  for (const auto& [field, text] : texts) {
    HULL_TRY(check_plain_text(call, field, *text, kMaxDetailBytes));
  }
  const uint64_t start = r.agent_start_boottime_ns();
  const uint64_t ready = r.agent_ready_boottime_ns();
  const uint64_t now = r.now_boottime_ns();
  if (start > now) {
    return bad(call, "agent_start_boottime_ns " + std::to_string(start) +
                         " after now_boottime_ns " + std::to_string(now));
  }
  if (ready != 0 && (ready < start || ready > now)) {
    return bad(call, "agent_ready_boottime_ns " + std::to_string(ready) + " not between start " +
                         std::to_string(start) + " and now " + std::to_string(now));
  }
  if (r.mem_available_kib() > r.mem_total_kib()) {
    return bad(call, "mem_available_kib " + std::to_string(r.mem_available_kib()) +
                         " above mem_total_kib " + std::to_string(r.mem_total_kib()));
  }
  HULL_TRY(check_at_most(call, "online_cpus", r.online_cpus(), kMaxGuestCpus));
  return r;
}

Result<agent::ReadSharedFileResponse> parse_shared_file(agent::ReadSharedFileResponse r,
                                                        uint32_t max_bytes) {
  constexpr std::string_view call = "ReadSharedFile";
  if (r.data().size() > max_bytes) {
    return bad(call, std::to_string(r.data().size()) + " bytes of data, asked for at most " +
                         std::to_string(max_bytes));
  }
  if (r.size() < r.data().size()) {
    return bad(call, "size " + std::to_string(r.size()) + " below the " +
                         std::to_string(r.data().size()) + " bytes of data");
  }
  return r;
}

}  // namespace hull::sandbox
