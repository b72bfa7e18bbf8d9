#include "common/proc_stat.h"

#include <vector>

#include "common/file.h"
#include "common/text.h"

namespace hull {
namespace {

constexpr size_t kMaxStatBytes = 4096;

std::unexpected<Error> bad(const std::string& why) {
  return fail(Errc::Invalid, "/proc/<pid>/stat: " + why);
}

}  // namespace

Result<ProcStat> parse_proc_stat(std::string_view line, int need_fields) {
  size_t open = line.find(" (");
  size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return bad("no \"pid (comm)\" prefix");
  }
  ProcStat st;
  if (!parse_number(line.substr(0, open), &st.pid)) return bad("field 1 (pid) is not a number");
  st.comm = std::string(line.substr(open + 2, close - open - 2));
  // field[0] is field 3.
  std::vector<std::string_view> field;
  if (close + 2 < line.size()) field = split(trim(line.substr(close + 2)), ' ');
  st.fields = static_cast<int>(field.size()) + 2;
  if (st.fields < need_fields) {
    return bad("the line ends after field " + std::to_string(st.fields) + ", before field " +
               std::to_string(need_fields));
  }
  if (!field.empty() && field[0].size() == 1) st.state = field[0][0];
  Status numbers;
  auto read = [&](int n, const char* name, auto* out) {
    size_t at = static_cast<size_t>(n - 3);
    if (numbers && at < field.size() && !parse_number(field[at], out)) {
      numbers = bad("field " + std::to_string(n) + " (" + name + ") is not a number");
    }
  };
  read(4, "ppid", &st.ppid);
  read(5, "pgrp", &st.pgrp);
  read(6, "session", &st.session);
  read(7, "tty_nr", &st.tty_nr);
  read(14, "utime", &st.utime);
  read(15, "stime", &st.stime);
  read(18, "priority", &st.priority);
  read(19, "nice", &st.nice);
  read(20, "num_threads", &st.num_threads);
  read(22, "starttime", &st.start_time);
  read(23, "vsize", &st.vsize);
  read(24, "rss", &st.rss);
  read(39, "processor", &st.processor);
  auto extra = [&](int n, auto* out) {
    size_t at = static_cast<size_t>(n - 3);
    if (at < field.size() && !parse_number(field[at], out)) *out = {};
  };
  extra(8, &st.tpgid);
  extra(9, &st.flags);
  extra(10, &st.min_flt);
  extra(12, &st.maj_flt);
  extra(16, &st.cutime);
  extra(17, &st.cstime);
  extra(25, &st.rsslim);
  extra(26, &st.start_code);
  extra(27, &st.end_code);
  extra(28, &st.start_stack);
  extra(29, &st.kstk_esp);
  extra(30, &st.kstk_eip);
  extra(40, &st.rt_priority);
  extra(41, &st.policy);
  if (!numbers) return fail(std::move(numbers.error()));
  return st;
}

Result<ProcStat> read_proc_stat(pid_t pid, int need_fields) {
  if (pid <= 0) return fail(Errc::NotFound, "no process " + std::to_string(pid));
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat", kMaxStatBytes);
  if (!text) {
    if (text.error().sys_errno == ENOENT || text.error().sys_errno == ESRCH) {
      return fail(Errc::NotFound, "no process " + std::to_string(pid));
    }
    return fail(std::move(text.error()));
  }
  return parse_proc_stat(*text, need_fields);
}

}  // namespace hull
