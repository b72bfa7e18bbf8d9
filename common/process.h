// Running a short-lived helper program and collecting its output.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace hull {

struct CommandOutput {
  int exit_status = -1;  // exit code, or 128+signal if it was killed
  std::string output;    // stdout and stderr, interleaved, capped at max_output bytes
};

// Runs argv[0] (searched in PATH when it has no '/') with stdin from /dev/null
// (spawn(), common/spawn.h), waits at most `timeout`, then kills it. Errors:
// the program could not be started (NotFound/System) or timed out (Timeout).
Result<CommandOutput> run_capture(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout, size_t max_output = 1 << 20);

}  // namespace hull
