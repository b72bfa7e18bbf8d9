#include "common/log.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "common/io.h"

namespace hull::log {
namespace {

Sink g_sink;  // installed once by main()
std::mutex g_mutex;

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace

void install(Sink sink) {
  std::lock_guard lock(g_mutex);
  g_sink = std::move(sink);
}

const Sink& sink() {
  return g_sink;
}

bool parse_level(std::string_view name, Level* out) {
  if (name == "debug")
    *out = Level::Debug;
  else if (name == "info")
    *out = Level::Info;
  else if (name == "warn" || name == "warning")
    *out = Level::Warn;
  else if (name == "error")
    *out = Level::Error;
  else
    return false;
  return true;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warning";
    case Level::Error:
      return "error";
  }
  return "info";
}

std::string rfc3339_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec);
  return buf;
}

void write(Level level, std::string_view msg) {
  std::lock_guard lock(g_mutex);
  if (level < g_sink.min_level) return;
  std::string full;
  if (!g_sink.prefix.empty()) full.append(g_sink.prefix).append(" ");
  full.append(msg);

  std::string line;
  if (g_sink.monotonic) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char buf[48];
    std::snprintf(buf, sizeof buf, "[%5ld.%06ld] %s: ", static_cast<long>(ts.tv_sec),
                  ts.tv_nsec / 1000, std::string(level_name(level)).c_str());
    line = buf;
    line += full;
  } else if (g_sink.format == Format::Json) {
    line = "{\"level\":";
    append_json_string(line, level_name(level));
    line += ",\"msg\":";
    append_json_string(line, full);
    line += ",\"time\":";
    append_json_string(line, rfc3339_now());
    line += "}";
  } else {
    line = "time=\"" + rfc3339_now() + "\" level=" + std::string(level_name(level)) + " msg=";
    append_json_string(line, full);
  }
  line += '\n';
  (void)write_all(g_sink.fd, line);  // nowhere left to report a logging failure
}

}  // namespace hull::log
