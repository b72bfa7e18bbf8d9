#include "runtime/cli/ps_keywords.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

namespace hull::cli::ps {
namespace {

using container::GuestProcessInfo;
using container::GuestThreadInfo;
using F = Field;

// --- values ------------------------------------------------------------------

// The thread's value where ps shows the thread's own, else the process's.
template <typename T, typename P>
int64_t pick(const Row& r, T GuestThreadInfo::*thread_field, P GuestProcessInfo::*process_field) {
  return r.t ? static_cast<int64_t>(r.t->*thread_field) : static_cast<int64_t>(r.p->*process_field);
}

uint64_t cpu_ms(const Row& r, const RenderOptions& o) {
  uint64_t ms = r.t ? r.t->cpu_time_ms : r.p->cpu_time_ms;
  if (o.cumulative && !r.t) ms += r.p->children_cpu_time_ms;
  return ms;
}

uint64_t age_ms(const Row& r) {
  return r.t ? r.t->elapsed_ms : r.p->elapsed_ms;
}

std::time_t started(const Row& r, const RenderOptions& o) {
  return o.now - static_cast<std::time_t>(age_ms(r) / 1000);
}

int tid_of(const Row& r) {
  return r.t ? r.t->tid : r.p->pid;
}

char state_of(const Row& r) {
  return r.t ? r.t->state : r.p->state;
}

int nice_of(const Row& r) {
  return r.t ? r.t->nice : r.p->nice;
}

int priority_of(const Row& r) {
  return r.t ? r.t->priority : r.p->priority;
}

uint32_t policy_of(const Row& r) {
  return r.t ? r.t->policy : r.p->policy;
}

std::string num(int64_t v) {
  return std::to_string(v);
}

std::string unum(uint64_t v) {
  return std::to_string(v);
}

std::string hex16(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string two_digits(uint64_t v) {
  return (v < 10 ? "0" : "") + std::to_string(v);
}

std::string hms(uint64_t secs) {  // [DD-]HH:MM:SS
  uint64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
  std::string out = d > 0 ? std::to_string(d) + "-" : "";
  return out + two_digits(h) + ":" + two_digits(m) + ":" + two_digits(s);
}

std::string elapsed(uint64_t secs) {  // [[DD-]HH:]MM:SS
  uint64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
  std::string out;
  if (d > 0) out = std::to_string(d) + "-";
  if (d > 0 || h > 0) out += two_digits(h) + ":";
  return out + two_digits(m) + ":" + two_digits(s);
}

std::string local_time(std::time_t t, const char* fmt) {
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

std::string tty_name(uint32_t tty_nr) {
  uint32_t major = (tty_nr >> 8) & 0xfff;
  uint32_t minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
  if (tty_nr == 0) return "?";
  if (major >= 136 && major <= 143) return "pts/" + std::to_string((major - 136) * 256 + minor);
  if (major == 4 && minor < 64) return "tty" + std::to_string(minor);
  if (major == 4) return "ttyS" + std::to_string(minor - 64);
  if (major == 5 && minor == 1) return "console";
  return "?";
}

// A name, or the id when the container has no name for it (or `n`).
std::string id_text(const std::string& name, uint32_t id, const RenderOptions& o) {
  return name.empty() || o.numeric ? std::to_string(id) : name;
}

// A percentage of `part` in `whole` with one decimal ("12.5"); from 100 on,
// none (as ps prints a busy multi-threaded process).
std::string percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "0.0";
  uint64_t permille = part * 1000 / whole;
  if (permille > 999) return std::to_string(permille / 10);
  return std::to_string(permille / 10) + "." + std::to_string(permille % 10);
}

std::string class_name(uint32_t policy) {
  static constexpr const char* kNames[] = {"TS", "FF", "RR", "B", "ISO", "IDL", "DLN"};
  return policy < std::size(kNames) ? kNames[policy] : "?";
}

bool realtime(uint32_t policy) {
  return policy == 1 || policy == 2 || policy == 6;  // FIFO, RR, DEADLINE
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string command_text(const Row& r, const RenderOptions& o, bool comm_column) {
  const GuestProcessInfo& p = *r.p;
  std::string comm = r.t ? r.t->comm : p.comm;
  std::string text;
  if (comm_column && !o.full) {
    text = comm;
  } else if (o.command_name) {
    text = comm;
  } else if (p.args.empty()) {
    text = "[" + comm + "]" + (p.state == 'Z' ? " <defunct>" : "");
  } else {
    text = join(p.args, " ");
  }
  if (o.environment && !p.environ.empty()) text += " " + join(p.environ, " ");
  return r.forest + text;
}

std::string cgroup_text(const GuestProcessInfo& p) {
  std::string out;
  for (const auto& line : p.cgroups) {
    if (line.ends_with(":/")) continue;  // the root of its hierarchy says nothing
    out += (out.empty() ? "" : ",") + line;
  }
  return out.empty() ? "-" : out;
}

uint64_t text_bytes(const GuestProcessInfo& p) {
  return p.end_code > p.start_code ? p.end_code - p.start_code : 0;
}

// The value a Field sorts by: a number, or a text.
struct SortValue {
  bool text = false;
  long double n = 0;
  std::string s;
};

}  // namespace

bool numeric_now(Field f, const RenderOptions& o) {
  switch (f) {
    case F::Euser:
    case F::Ruser:
    case F::Suser:
    case F::Fsuser:
    case F::Egroup:
    case F::Rgroup:
    case F::Sgroup:
    case F::Fsgroup:
      return o.numeric;
    default:
      return false;
  }
}

std::string render(Field f, const Row& r, const RenderOptions& o) {
  const GuestProcessInfo& p = *r.p;
  switch (f) {
    case F::Dash:
      return "-";
    case F::Pid:
      return num(p.pid);
    case F::Tid:
      return num(tid_of(r));
    case F::Ppid:
      return num(p.ppid);
    case F::Pgid:
      return num(p.pgid);
    case F::Sid:
      return num(p.sid);
    case F::Tpgid:
      return num(p.tpgid);
    case F::Nlwp:
      return unum(p.threads);
    case F::Euid:
      return unum(p.euid);
    case F::Ruid:
      return unum(p.uid);
    case F::Suid:
      return unum(p.suid);
    case F::Fsuid:
      return unum(p.fsuid);
    case F::Euser:
      return id_text(p.user, p.euid, o);
    case F::Ruser:
      return id_text(p.ruser, p.uid, o);
    case F::Suser:
      return id_text(p.suser, p.suid, o);
    case F::Fsuser:
      return id_text(p.fsuser, p.fsuid, o);
    case F::Egid:
      return unum(p.egid);
    case F::Rgid:
      return unum(p.gid);
    case F::Sgid:
      return unum(p.sgid);
    case F::Fsgid:
      return unum(p.fsgid);
    case F::Egroup:
      return id_text(p.group, p.egid, o);
    case F::Rgroup:
      return id_text(p.rgroup, p.gid, o);
    case F::Sgroup:
      return id_text(p.sgroup, p.sgid, o);
    case F::Fsgroup:
      return id_text(p.fsgroup, p.fsgid, o);
    case F::Supgid:
    case F::Supgrp: {
      std::string out;
      for (size_t i = 0; i < p.groups.size(); ++i) {
        std::string name = i < p.group_names.size() ? p.group_names[i] : "";
        std::string item = f == F::Supgrp ? id_text(name, p.groups[i], o) : unum(p.groups[i]);
        out += (out.empty() ? "" : ",") + item;
      }
      return out.empty() ? "-" : out;
    }
    case F::Args:
      return command_text(r, o, false);
    case F::Comm:
      return command_text(r, o, true);
    case F::Fname:
      return r.forest + (r.t ? r.t->comm : p.comm).substr(0, 8);
    case F::Exe:
      return p.exe.empty() ? "-" : p.exe;
    case F::State:
      return std::string(1, state_of(r));
    case F::Stat: {
      std::string s(1, state_of(r));
      if (nice_of(r) < 0) s += '<';
      if (nice_of(r) > 0) s += 'N';
      if (p.vm_lock_kib > 0) s += 'L';
      if (p.sid == p.pid) s += 's';
      if (p.threads > 1) s += 'l';
      if (p.tpgid > 0 && p.pgid == p.tpgid) s += '+';
      return s;
    }
    case F::Tty:
      return tty_name(p.tty);
    case F::Class:
      return class_name(policy_of(r));
    case F::Sched:
      return unum(policy_of(r));
    case F::Rtprio:
      return policy_of(r) == 0 ? "-" : unum(r.t ? r.t->rt_priority : p.rt_priority);
    case F::Time:
      return hms(cpu_ms(r, o) / 1000);
    case F::Times:
      return unum(cpu_ms(r, o) / 1000);
    case F::Bsdtime: {
      uint64_t s = cpu_ms(r, o) / 1000;
      return std::to_string(s / 60) + ":" + two_digits(s % 60);
    }
    case F::Etime:
      return elapsed(age_ms(r) / 1000);
    case F::Etimes:
      return unum(age_ms(r) / 1000);
    case F::Stime: {
      std::time_t t = started(r, o);
      if (local_time(t, "%Y") != local_time(o.now, "%Y")) return local_time(t, "%Y");
      if (local_time(t, "%j") != local_time(o.now, "%j")) return local_time(t, "%b%d");
      return local_time(t, "%H:%M");
    }
    case F::Bsdstart: {
      std::time_t t = started(r, o);
      return o.now - t > 24 * 3600 ? local_time(t, "%b%d") : local_time(t, "%H:%M");
    }
    case F::Start: {
      std::time_t t = started(r, o);
      return o.now - t > 24 * 3600 ? local_time(t, "%b %d") : local_time(t, "%H:%M:%S");
    }
    case F::Lstart:
      return local_time(started(r, o), "%a %b %e %H:%M:%S %Y");
    case F::C: {
      uint64_t secs = age_ms(r) / 1000;
      return unum(secs ? std::min<uint64_t>(99, cpu_ms(r, o) / 10 / secs) : 0);
    }
    case F::Cp: {
      uint64_t secs = age_ms(r) / 1000;
      return unum(secs ? std::min<uint64_t>(999, cpu_ms(r, o) / secs) : 0);
    }
    case F::Pcpu:
      return percent(cpu_ms(r, o), age_ms(r));
    case F::Cuc:
    case F::Cuu: {
      uint64_t ms = (r.t ? r.t->cpu_time_ms : p.cpu_time_ms) +
                    (f == F::Cuc && !r.t ? p.children_cpu_time_ms : 0);
      uint64_t age = age_ms(r);
      uint64_t thousandths = age ? ms * 100000 / age : 0;
      char buf[32];
      std::snprintf(buf, sizeof buf, "%llu.%03llu",
                    static_cast<unsigned long long>(thousandths / 1000),
                    static_cast<unsigned long long>(thousandths % 1000));
      return buf;
    }
    case F::Pmem:
      return percent(p.rss_kib, p.mem_total_kib);
    case F::Rss:
      return unum(p.rss_kib);
    case F::Vsz:
      return unum(p.vsz_kib);
    case F::Sz:
      return unum(p.vsz_kib / 4);
    case F::Size:
      return unum(p.vm_data_kib + p.vm_stack_kib);
    case F::MSize:
      return unum(p.vsz_kib * 1024);
    case F::Trs:
      return unum(text_bytes(p) >> 10);
    case F::Drs: {
      uint64_t vsize = p.vsz_kib * 1024;
      return unum((vsize > text_bytes(p) ? vsize - text_bytes(p) : 0) >> 10);
    }
    case F::Lim:
      return p.rss_rlim == UINT64_MAX ? "xx" : unum(p.rss_rlim >> 10);
    case F::Pss:
      return unum(p.pss_kib);
    case F::Uss:
      return unum(p.uss_kib);
    case F::Nice:
      return realtime(policy_of(r)) ? "-" : num(nice_of(r));
    case F::Pri:
      return num(39 - priority_of(r));
    case F::Opri:
      return num(60 + priority_of(r));
    case F::Priority:
      return num(priority_of(r));
    case F::PriApi:
      return num(-1 - priority_of(r));
    case F::PriBar:
      return num(priority_of(r) + 1);
    case F::PriBaz:
      return num(priority_of(r) + 100);
    case F::PriFoo:
      return num(priority_of(r) - 20);
    case F::Psr:
      return num(pick(r, &GuestThreadInfo::processor, &GuestProcessInfo::processor));
    case F::SgiP:
      return state_of(r) == 'R'
                 ? num(pick(r, &GuestThreadInfo::processor, &GuestProcessInfo::processor))
                 : "*";
    case F::Numa:
      return "0";  // the guest has one memory node
    case F::Flags: {
      auto flags =
          static_cast<uint32_t>(pick(r, &GuestThreadInfo::flags, &GuestProcessInfo::flags));
      return std::to_string((flags >> 6) & 7);
    }
    case F::Wchan: {
      const std::string& w = r.t ? r.t->wchan : p.wchan;
      return w.empty() ? "-" : w;
    }
    case F::MinFlt:
      return unum(r.t ? r.t->min_flt : p.min_flt);
    case F::MajFlt:
      return unum(r.t ? r.t->maj_flt : p.maj_flt);
    case F::SigPending:
      return hex16(p.sig_pending);
    case F::SigPendingThread:
      return hex16(r.t ? r.t->sig_pending : p.sig_pending_thread);
    case F::SigBlocked:
      return hex16(r.t ? r.t->sig_blocked : p.sig_blocked);
    case F::SigIgnored:
      return hex16(r.t ? r.t->sig_ignored : p.sig_ignored);
    case F::SigCaught:
      return hex16(r.t ? r.t->sig_caught : p.sig_caught);
    case F::Stackp:
      return hex16(p.start_stack);
    case F::Esp:
      return hex16(r.t ? r.t->kstk_esp : p.kstk_esp);
    case F::Eip:
      return hex16(r.t ? r.t->kstk_eip : p.kstk_eip);
    case F::Label:
      return p.label.empty() ? "-" : p.label;
    case F::Cgroup:
      return cgroup_text(p);
    case F::NsIpc:
    case F::NsMnt:
    case F::NsNet:
    case F::NsPid:
    case F::NsUser:
    case F::NsUts:
    case F::NsCgroup:
    case F::NsTime: {
      const uint64_t values[] = {p.ns.ipc,  p.ns.mnt, p.ns.net,    p.ns.pid,
                                 p.ns.user, p.ns.uts, p.ns.cgroup, p.ns.time};
      uint64_t v = values[static_cast<size_t>(f) - static_cast<size_t>(F::NsIpc)];
      return v == 0 ? "-" : unum(v);
    }
    case F::ReadBytes:
      return unum(p.io.read_bytes);
    case F::WriteBytes:
      return unum(p.io.write_bytes);
    case F::CancelledWriteBytes:
      return unum(p.io.cancelled_write_bytes);
    case F::Rchar:
      return unum(p.io.rchar);
    case F::Wchar:
      return unum(p.io.wchar);
    case F::Syscr:
      return unum(p.io.syscr);
    case F::Syscw:
      return unum(p.io.syscw);
    case F::Oom:
      return num(p.oom_score);
    case F::OomAdj:
      return num(p.oom_score_adj);
    case F::Luid:
      return p.loginuid == UINT32_MAX ? "-" : unum(p.loginuid);
    case F::AgId:
      return num(p.autogroup);
    case F::AgNice:
      return num(p.autogroup_nice);
  }
  return "-";
}

int compare(Field f, const Row& a, const Row& b, const RenderOptions& o) {
  auto value = [&](const Row& r) -> SortValue {
    const GuestProcessInfo& p = *r.p;
    auto n = [](long double v) { return SortValue{false, v, {}}; };
    auto s = [](std::string v) { return SortValue{true, 0, std::move(v)}; };
    switch (f) {
      case F::Dash:
        return n(0);
      case F::Euser:
      case F::Ruser:
      case F::Suser:
      case F::Fsuser:
      case F::Egroup:
      case F::Rgroup:
      case F::Sgroup:
      case F::Fsgroup:
      case F::Args:  // ps sorts the command columns by the command's name
      case F::Comm:
      case F::Fname:
        return s(r.t ? r.t->comm : p.comm);
      case F::Supgrp:
      case F::Exe:
      case F::Tty:
      case F::Label:
      case F::Cgroup:
      case F::Supgid:
      case F::Wchan:
        return s(render(f, Row{r.p, r.t, {}}, o));
      case F::State:
      case F::Stat:
        return n(static_cast<unsigned char>(state_of(r)));
      case F::Time:
      case F::Times:
      case F::Bsdtime:
      case F::C:
      case F::Cp:
        return n(static_cast<long double>(cpu_ms(r, o)));
      case F::Pcpu:
      case F::Cuu:
      case F::Cuc:
        return n(age_ms(r) ? static_cast<long double>(cpu_ms(r, o)) / age_ms(r) : 0);
      case F::Etime:
      case F::Etimes:
        return n(static_cast<long double>(age_ms(r)));
      case F::Stime:
      case F::Bsdstart:
      case F::Start:
      case F::Lstart:
        return n(-static_cast<long double>(age_ms(r)));  // earlier start sorts first
      case F::Pmem:
      case F::Rss:
        return n(static_cast<long double>(p.rss_kib));
      default: {
        // Every other field is a number as render() prints it ("-" and "*"
        // as 0, "xx", an unlimited limit, last).
        std::string text = render(f, Row{r.p, r.t, {}}, o);
        if (text == "xx") return n(1e30L);
        bool hex = f == F::SigPending || f == F::SigPendingThread || f == F::SigBlocked ||
                   f == F::SigIgnored || f == F::SigCaught || f == F::Stackp || f == F::Esp ||
                   f == F::Eip;
        int64_t v = 0;
        uint64_t u = 0;
        const char* end = text.data() + text.size();
        if (hex && std::from_chars(text.data(), end, u, 16).ptr == end) {
          return n(static_cast<long double>(u));
        }
        if (std::from_chars(text.data(), end, v).ptr == end) return n(static_cast<long double>(v));
        return n(0);
      }
    }
  };
  SortValue x = value(a), y = value(b);
  if (x.text || y.text) return x.s.compare(y.s) < 0 ? -1 : (x.s == y.s ? 0 : 1);
  return x.n < y.n ? -1 : (x.n > y.n ? 1 : 0);
}

}  // namespace hull::cli::ps
