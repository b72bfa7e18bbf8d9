// `hull check`: one line per host requirement, each OK, WARN or FAIL with the
// reason and what to do. A FAIL is a hard requirement: hull cannot start a VM.
#pragma once

#include <string>
#include <vector>

#include "runtime/config/config.h"

namespace hull::vm {

enum class CheckLevel { Ok, Warn, Fail };

struct CheckLine {
  std::string name;  // "qemu", "microvm", ...
  CheckLevel level = CheckLevel::Ok;
  std::string detail;  // what was found
  std::string advice;  // what to do (empty when OK)
};

// `helper_dir` is where hull's own binaries live (hull-vsock is looked up there).
std::vector<CheckLine> run_host_checks(const config::Config& cfg, const std::string& helper_dir);

bool any_failed(const std::vector<CheckLine>& lines);

// "OK    qemu        /usr/bin/qemu-system-x86_64: QEMU emulator version 7.2.22"
std::string format_check_line(const CheckLine& line);

}  // namespace hull::vm
