// The agent's settings, read from the kernel command line (/proc/cmdline):
//
//   hull.log=debug|info|warn|error   log level on the console (default info)
//   hull.port=N                      vsock port of the agent's RPC service (default 1024)
//   hull.debug_shell=1|0             start /bin/sh on the console (needs a --debug initrd)
//   hull.test=poweroff               power off right after the ready line (boot tests)
//
// Parameters without the "hull." prefix belong to the kernel and are skipped. Unknown "hull."
// keys are returned so the caller can warn about them (a newer host may pass more); a known
// key with a bad value is an error, because the host that wrote it has a bug.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/log.h"

namespace hull::agent::init {

// Longest command line read (x86 COMMAND_LINE_SIZE is 2048; leave room).
inline constexpr size_t kMaxCmdlineBytes = 64 * 1024;
inline constexpr uint32_t kDefaultPort = 1024;

enum class TestAction { None, PowerOff };

struct AgentConfig {
  log::Level log_level = log::Level::Info;
  uint32_t port = kDefaultPort;
  bool debug_shell = false;
  TestAction test = TestAction::None;
};

struct ParsedCmdline {
  AgentConfig config;
  std::vector<std::string> unknown;  // "hull.xyz=1" parameters this agent does not know
};

// Splits a command line into (key, value) pairs the way the kernel does (next_arg): blanks
// separate parameters, double quotes group blanks ("key=a b" or key="a b") and are removed;
// a parameter without "=" has an empty value. Pure.
std::vector<std::pair<std::string, std::string>> split_cmdline(std::string_view text);

// Parses the text of /proc/cmdline into the agent's settings. Pure.
Result<ParsedCmdline> parse_cmdline(std::string_view text);

}  // namespace hull::agent::init
