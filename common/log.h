// The process-wide log sink: the one global hull allows. main() installs it
// once; libraries do not log errors they return (the caller decides).
//
// Text lines:  time=... level=info msg="..."   (runc's logrus text shape)
// JSON lines:  {"level":"info","msg":"...","time":"2026-01-02T03:04:05.123456789Z"}
#pragma once

#include <string>
#include <string_view>

namespace hull::log {

enum class Level { Debug, Info, Warn, Error };
enum class Format { Text, Json };

struct Sink {
  int fd = 2;  // where lines go (not owned)
  Format format = Format::Text;
  Level min_level = Level::Info;
  std::string prefix;      // "[sandbox=.. ctr=..]" style context, may be empty
  bool monotonic = false;  // guest console: "[   1.234567] msg" instead of wall time
};

void install(Sink sink);
const Sink& sink();

bool parse_level(std::string_view name, Level* out);
std::string_view level_name(Level level);

void write(Level level, std::string_view msg);

inline void debug(std::string_view m) {
  write(Level::Debug, m);
}
inline void info(std::string_view m) {
  write(Level::Info, m);
}
inline void warn(std::string_view m) {
  write(Level::Warn, m);
}
inline void error(std::string_view m) {
  write(Level::Error, m);
}

// RFC 3339 UTC time with nanoseconds, as runc writes it.
std::string rfc3339_now();

}  // namespace hull::log
