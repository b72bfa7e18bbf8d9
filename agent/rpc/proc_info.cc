#include "agent/rpc/proc_info.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <memory>

#include "agent/engine/fs_util.h"
#include "common/text.h"
#include "common/unique_fd.h"

namespace hull::agent::rpc {
namespace {

constexpr size_t kMaxProcTextBytes = 64 << 10;

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t b = s.find_first_not_of(" \t\n");
    if (b == std::string_view::npos) break;
    s.remove_prefix(b);
    size_t e = s.find_first_of(" \t\n");
    out.push_back(s.substr(0, e));
    s.remove_prefix(e == std::string_view::npos ? s.size() : e);
  }
  return out;
}

// Calls f(key, value) for each "key: value" line of `text`.
template <typename F>
void for_each_keyed_line(std::string_view text, F f) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    f(line.substr(0, colon), trim(line.substr(colon + 1)));
  }
}

// "   128 kB" -> 128.
uint64_t kib(std::string_view v) {
  auto w = words(v);
  uint64_t n = 0;
  if (!w.empty() && !parse_number(w[0], &n)) n = 0;
  return n;
}

uint64_t hex(std::string_view v) {
  uint64_t n = 0;
  if (!parse_number(v, &n, 16)) n = 0;
  return n;
}

// Up to `max` bytes of a /proc file; nullopt when it cannot be opened.
std::optional<std::string> read_prefix(const std::string& path, size_t max) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[8192];
  while (out.size() < max) {
    ssize_t n = ::read(fd.get(), buf, std::min(sizeof buf, max - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::optional<std::string> read_link(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n <= 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

// A regular file of at most kMaxIdFileBytes inside `rootfd`'s tree.
std::optional<std::string> read_in_root(int rootfd, std::string_view path) {
  auto fd = engine::open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return std::nullopt;
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) > kMaxIdFileBytes) {
    return std::nullopt;
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() + static_cast<size_t>(n) > kMaxIdFileBytes) return std::nullopt;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string name_of(const std::map<uint32_t, std::string>& m, uint32_t id) {
  auto it = m.find(id);
  return it == m.end() ? std::string() : it->second;
}

uint64_t ticks_ms(uint64_t ticks, uint64_t hz) {
  return ticks * 1000 / (hz == 0 ? 100 : hz);
}

uint64_t elapsed_ms(uint64_t start_ticks, uint64_t uptime_ms, uint64_t hz) {
  uint64_t started = ticks_ms(start_ticks, hz);
  return uptime_ms > started ? uptime_ms - started : 0;
}

std::string wchan_text(std::string_view w) {
  w = trim(w);
  return w == "0" ? std::string() : printable_utf8(w);
}

}  // namespace

ProcStatus parse_proc_status(std::string_view text) {
  ProcStatus s;
  for_each_keyed_line(text, [&](std::string_view key, std::string_view value) {
    auto ids = [&](uint32_t* out) {
      auto w = words(value);
      for (size_t i = 0; i < 4 && i < w.size(); ++i) {
        if (!parse_number(w[i], &out[i])) out[i] = 0;
      }
    };
    if (key == "Uid") {
      ids(s.uid);
    } else if (key == "Gid") {
      ids(s.gid);
    } else if (key == "Groups") {
      for (auto w : words(value)) {
        uint32_t g = 0;
        if (parse_number(w, &g)) s.groups.push_back(g);
      }
    } else if (key == "SigPnd") {
      s.sig_pnd = hex(value);
    } else if (key == "ShdPnd") {
      s.shd_pnd = hex(value);
    } else if (key == "SigBlk") {
      s.sig_blk = hex(value);
    } else if (key == "SigIgn") {
      s.sig_ign = hex(value);
    } else if (key == "SigCgt") {
      s.sig_cgt = hex(value);
    } else if (key == "VmLck") {
      s.vm_lck_kib = kib(value);
    } else if (key == "VmData") {
      s.vm_data_kib = kib(value);
    } else if (key == "VmStk") {
      s.vm_stk_kib = kib(value);
    } else if (key == "VmExe") {
      s.vm_exe_kib = kib(value);
    } else if (key == "VmLib") {
      s.vm_lib_kib = kib(value);
    } else if (key == "VmSwap") {
      s.vm_swap_kib = kib(value);
    }
  });
  return s;
}

ProcStatm parse_proc_statm(std::string_view text) {
  ProcStatm m;
  uint64_t* fields[] = {&m.size, &m.resident, &m.shared, &m.text, &m.lib, &m.data};
  auto w = words(text);
  for (size_t i = 0; i < std::size(fields) && i < w.size(); ++i) {
    if (!parse_number(w[i], fields[i])) *fields[i] = 0;
  }
  return m;
}

agent::ProcessIo parse_proc_io(std::string_view text) {
  agent::ProcessIo io;
  for_each_keyed_line(text, [&](std::string_view key, std::string_view value) {
    uint64_t v = 0;
    if (!parse_number(value, &v)) return;
    if (key == "rchar") io.set_rchar(v);
    if (key == "wchar") io.set_wchar(v);
    if (key == "syscr") io.set_syscr(v);
    if (key == "syscw") io.set_syscw(v);
    if (key == "read_bytes") io.set_read_bytes(v);
    if (key == "write_bytes") io.set_write_bytes(v);
    if (key == "cancelled_write_bytes") io.set_cancelled_write_bytes(v);
  });
  return io;
}

uint64_t parse_ns_link(std::string_view link) {
  size_t open = link.find(":[");
  if (open == std::string_view::npos || !link.ends_with(']')) return 0;
  uint64_t ino = 0;
  if (!parse_number(link.substr(open + 2, link.size() - open - 3), &ino)) return 0;
  return ino;
}

SmapsRollup parse_smaps_rollup(std::string_view text) {
  SmapsRollup r;
  for_each_keyed_line(text, [&](std::string_view key, std::string_view value) {
    if (key == "Pss") r.pss_kib = kib(value);
    if (key == "Private_Clean" || key == "Private_Dirty") r.uss_kib += kib(value);
  });
  return r;
}

std::optional<std::pair<int64_t, int32_t>> parse_autogroup(std::string_view text) {
  auto w = words(text);
  constexpr std::string_view kPrefix = "/autogroup-";
  if (w.size() != 3 || !w[0].starts_with(kPrefix) || w[1] != "nice") return std::nullopt;
  int64_t id = 0;
  int32_t nice = 0;
  if (!parse_number(w[0].substr(kPrefix.size()), &id) || !parse_number(w[2], &nice)) {
    return std::nullopt;
  }
  return std::pair{id, nice};
}

std::map<uint32_t, std::string> parse_id_names(std::string_view text) {
  std::map<uint32_t, std::string> out;
  while (!text.empty() && out.size() < kMaxIdNames) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    size_t c3 = line.find(':', c2 + 1);
    std::string_view name = line.substr(0, c1);
    std::string_view id_text =
        line.substr(c2 + 1, c3 == std::string_view::npos ? std::string_view::npos : c3 - c2 - 1);
    uint32_t id = 0;
    if (name.empty() || name.size() > kMaxIdNameBytes || !parse_number(id_text, &id)) continue;
    if (std::any_of(name.begin(), name.end(), [](char ch) {
          auto u = static_cast<unsigned char>(ch);
          return u < 0x20 || u == 0x7f;
        })) {
      continue;
    }
    out.emplace(id, printable_utf8(name));  // the first one stays
  }
  return out;
}

const IdNameCache::Tables& IdNameCache::of(pid_t pid) {
  UniqueFd root(
      ::open(("/proc/" + std::to_string(pid) + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct stat st {};
  if (!root || ::fstat(root.get(), &st) != 0) return none_;
  auto key = std::pair{st.st_dev, st.st_ino};
  if (auto it = by_root_.find(key); it != by_root_.end()) return it->second;
  Tables t;
  if (auto passwd = read_in_root(root.get(), "etc/passwd")) t.users = parse_id_names(*passwd);
  if (auto group = read_in_root(root.get(), "etc/group")) t.groups = parse_id_names(*group);
  return by_root_.emplace(key, std::move(t)).first->second;
}

ThreadInfo thread_info(const ProcStat& st, const ProcStatus& status, std::string_view wchan,
                       uint64_t uptime_ms, uint64_t hz) {
  ThreadInfo t;
  t.set_tid(st.pid);
  t.set_comm(printable_utf8(st.comm));
  t.set_state(std::string(1, st.state));
  t.set_cpu_time_ms(ticks_ms(st.utime + st.stime, hz));
  t.set_elapsed_ms(elapsed_ms(st.start_time, uptime_ms, hz));
  t.set_priority(st.priority);
  t.set_nice(st.nice);
  t.set_processor(st.processor);
  t.set_flags(st.flags);
  t.set_policy(st.policy);
  t.set_rt_priority(st.rt_priority);
  t.set_min_flt(st.min_flt);
  t.set_maj_flt(st.maj_flt);
  t.set_wchan(wchan_text(wchan));
  t.set_sig_pending(status.sig_pnd);
  t.set_sig_blocked(status.sig_blk);
  t.set_sig_ignored(status.sig_ign);
  t.set_sig_caught(status.sig_cgt);
  t.set_kstk_esp(st.kstk_esp);
  t.set_kstk_eip(st.kstk_eip);
  return t;
}

void read_process_details(pid_t pid, const ProcStat& st, uint64_t uptime_ms, uint64_t hz,
                          uint64_t page_kib, IdNameCache& names, ProcessInfo* info) {
  const std::string base = "/proc/" + std::to_string(pid) + "/";
  info->set_tpgid(st.tpgid);
  info->set_flags(st.flags);
  info->set_policy(st.policy);
  info->set_rt_priority(st.rt_priority);
  info->set_min_flt(st.min_flt);
  info->set_maj_flt(st.maj_flt);
  info->set_children_cpu_time_ms(ticks_ms(st.cutime + st.cstime, hz));
  info->set_start_stack(st.start_stack);
  info->set_kstk_esp(st.kstk_esp);
  info->set_kstk_eip(st.kstk_eip);
  info->set_start_code(st.start_code);
  info->set_end_code(st.end_code);
  info->set_rss_rlim(st.rsslim);

  ProcStatus status;
  if (auto text = read_prefix(base + "status", kMaxProcTextBytes)) {
    status = parse_proc_status(*text);
  }
  info->set_euid(status.uid[1]);
  info->set_suid(status.uid[2]);
  info->set_fsuid(status.uid[3]);
  info->set_egid(status.gid[1]);
  info->set_sgid(status.gid[2]);
  info->set_fsgid(status.gid[3]);
  for (uint32_t g : status.groups) info->add_groups(g);
  info->set_sig_pending(status.shd_pnd);
  info->set_sig_pending_thread(status.sig_pnd);
  info->set_sig_blocked(status.sig_blk);
  info->set_sig_ignored(status.sig_ign);
  info->set_sig_caught(status.sig_cgt);
  info->set_vm_lock_kib(status.vm_lck_kib);
  info->set_vm_data_kib(status.vm_data_kib);
  info->set_vm_stack_kib(status.vm_stk_kib);
  info->set_vm_exe_kib(status.vm_exe_kib);
  info->set_vm_lib_kib(status.vm_lib_kib);
  info->set_vm_swap_kib(status.vm_swap_kib);

  const IdNameCache::Tables& t = names.of(pid);
  ProcessNames* n = info->mutable_names();
  n->set_ruser(name_of(t.users, status.uid[0]));
  n->set_user(name_of(t.users, status.uid[1]));
  n->set_suser(name_of(t.users, status.uid[2]));
  n->set_fsuser(name_of(t.users, status.uid[3]));
  n->set_rgroup(name_of(t.groups, status.gid[0]));
  n->set_group(name_of(t.groups, status.gid[1]));
  n->set_sgroup(name_of(t.groups, status.gid[2]));
  n->set_fsgroup(name_of(t.groups, status.gid[3]));
  for (uint32_t g : status.groups) n->add_groups(name_of(t.groups, g));

  if (auto text = read_prefix(base + "statm", kMaxProcTextBytes)) {
    ProcStatm m = parse_proc_statm(*text);
    info->set_share_kib(m.shared * page_kib);
    info->set_text_kib(m.text * page_kib);
    info->set_data_kib(m.data * page_kib);
  }
  if (auto w = read_prefix(base + "wchan", kMaxProcTextBytes)) info->set_wchan(wchan_text(*w));
  if (auto env = read_prefix(base + "environ", kMaxEnvironBytes)) {
    for (const auto& e : split_cmdline(*env)) info->add_environ(printable_utf8(e));
  }
  if (auto label = read_prefix(base + "attr/current", kMaxProcTextBytes)) {
    std::string_view l = *label;
    l = l.substr(0, l.find_first_of(std::string_view("\n\0", 2)));
    info->set_label(printable_utf8(l));
  }
  if (auto cg = read_prefix(base + "cgroup", kMaxProcTextBytes)) {
    std::string_view text = *cg;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      if (nl > 0) info->add_cgroups(printable_utf8(text.substr(0, nl)));
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
  }
  NamespaceIds* ns = info->mutable_namespaces();
  const std::pair<const char*, void (NamespaceIds::*)(uint64_t)> kinds[] = {
      {"ipc", &NamespaceIds::set_ipc},       {"mnt", &NamespaceIds::set_mnt},
      {"net", &NamespaceIds::set_net},       {"pid", &NamespaceIds::set_pid},
      {"user", &NamespaceIds::set_user},     {"uts", &NamespaceIds::set_uts},
      {"cgroup", &NamespaceIds::set_cgroup}, {"time", &NamespaceIds::set_time}};
  for (const auto& [name, set] : kinds) {
    if (auto link = read_link(base + "ns/" + name)) (ns->*set)(parse_ns_link(*link));
  }
  if (auto io = read_prefix(base + "io", kMaxProcTextBytes)) {
    *info->mutable_io() = parse_proc_io(*io);
  }
  int32_t v = 0;
  if (auto s = read_prefix(base + "oom_score", 64); s && parse_number(trim(*s), &v)) {
    info->set_oom_score(v);
  }
  if (auto s = read_prefix(base + "oom_score_adj", 64); s && parse_number(trim(*s), &v)) {
    info->set_oom_score_adj(v);
  }
  uint32_t luid = UINT32_MAX;
  if (auto s = read_prefix(base + "loginuid", 64); !s || !parse_number(trim(*s), &luid)) {
    luid = UINT32_MAX;
  }
  info->set_loginuid(luid);
  if (auto exe = read_link(base + "exe")) info->set_exe(printable_utf8(*exe));
  if (auto smaps = read_prefix(base + "smaps_rollup", kMaxProcTextBytes)) {
    SmapsRollup r = parse_smaps_rollup(*smaps);
    info->set_pss_kib(r.pss_kib);
    info->set_uss_kib(r.uss_kib);
  }
  info->set_autogroup(-1);
  if (auto ag = read_prefix(base + "autogroup", 256)) {
    if (auto p = parse_autogroup(*ag)) {
      info->set_autogroup(p->first);
      info->set_autogroup_nice(p->second);
    }
  }

  // The threads, the main one first.
  std::vector<pid_t> tids;
  if (std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir((base + "task").c_str()), ::closedir); d) {
    while (dirent* e = ::readdir(d.get())) {
      pid_t tid = 0;
      if (parse_number(std::string_view(e->d_name), &tid) && tid > 0) tids.push_back(tid);
      if (tids.size() >= kMaxTasksPerProcess) break;
    }
  }
  std::sort(tids.begin(), tids.end(),
            [pid](pid_t a, pid_t b) { return (a == pid) != (b == pid) ? a == pid : a < b; });
  for (pid_t tid : tids) {
    std::string task = base + "task/" + std::to_string(tid) + "/";
    auto stat = read_prefix(task + "stat", kMaxProcTextBytes);
    if (!stat) continue;  // it ended meanwhile
    auto tst = parse_proc_stat(*stat);
    if (!tst) continue;
    ProcStatus tstatus;
    if (auto text = read_prefix(task + "status", kMaxProcTextBytes)) {
      tstatus = parse_proc_status(*text);
    }
    std::string wchan = read_prefix(task + "wchan", kMaxProcTextBytes).value_or("0");
    *info->add_tasks() = thread_info(*tst, tstatus, wchan, uptime_ms, hz);
  }
}

}  // namespace hull::agent::rpc
