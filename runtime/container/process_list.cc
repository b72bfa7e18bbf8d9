#include "runtime/container/process_list.h"

namespace hull::container {
namespace {

char state_letter(const std::string& s) {
  return s.empty() ? '?' : s[0];
}

GuestThreadInfo thread_of(const agent::ThreadInfo& t) {
  GuestThreadInfo g;
  g.tid = t.tid();
  g.comm = t.comm();
  g.state = state_letter(t.state());
  g.cpu_time_ms = t.cpu_time_ms();
  g.elapsed_ms = t.elapsed_ms();
  g.priority = t.priority();
  g.nice = t.nice();
  g.processor = t.processor();
  g.flags = t.flags();
  g.policy = t.policy();
  g.rt_priority = t.rt_priority();
  g.min_flt = t.min_flt();
  g.maj_flt = t.maj_flt();
  g.wchan = t.wchan();
  g.sig_pending = t.sig_pending();
  g.sig_blocked = t.sig_blocked();
  g.sig_ignored = t.sig_ignored();
  g.sig_caught = t.sig_caught();
  g.kstk_esp = t.kstk_esp();
  g.kstk_eip = t.kstk_eip();
  return g;
}

// Fields 19 and up (what only ps(1)'s other columns and layouts show).
void add_details(const agent::ProcessInfo& pi, GuestProcessInfo& g) {
  g.tpgid = pi.tpgid();
  g.flags = pi.flags();
  g.policy = pi.policy();
  g.rt_priority = pi.rt_priority();
  g.min_flt = pi.min_flt();
  g.maj_flt = pi.maj_flt();
  g.children_cpu_time_ms = pi.children_cpu_time_ms();
  g.euid = pi.euid();
  g.suid = pi.suid();
  g.fsuid = pi.fsuid();
  g.egid = pi.egid();
  g.sgid = pi.sgid();
  g.fsgid = pi.fsgid();
  g.groups.assign(pi.groups().begin(), pi.groups().end());
  const agent::ProcessNames& n = pi.names();
  g.user = n.user();
  g.ruser = n.ruser();
  g.suser = n.suser();
  g.fsuser = n.fsuser();
  g.group = n.group();
  g.rgroup = n.rgroup();
  g.sgroup = n.sgroup();
  g.fsgroup = n.fsgroup();
  g.group_names.assign(n.groups().begin(), n.groups().end());
  g.wchan = pi.wchan();
  g.sig_pending = pi.sig_pending();
  g.sig_pending_thread = pi.sig_pending_thread();
  g.sig_blocked = pi.sig_blocked();
  g.sig_ignored = pi.sig_ignored();
  g.sig_caught = pi.sig_caught();
  g.start_stack = pi.start_stack();
  g.kstk_esp = pi.kstk_esp();
  g.kstk_eip = pi.kstk_eip();
  g.start_code = pi.start_code();
  g.end_code = pi.end_code();
  g.rss_rlim = pi.rss_rlim();
  g.share_kib = pi.share_kib();
  g.text_kib = pi.text_kib();
  g.data_kib = pi.data_kib();
  g.vm_lock_kib = pi.vm_lock_kib();
  g.vm_data_kib = pi.vm_data_kib();
  g.vm_stack_kib = pi.vm_stack_kib();
  g.vm_exe_kib = pi.vm_exe_kib();
  g.vm_lib_kib = pi.vm_lib_kib();
  g.vm_swap_kib = pi.vm_swap_kib();
  g.environ.assign(pi.environ().begin(), pi.environ().end());
  for (const auto& t : pi.tasks()) g.tasks.push_back(thread_of(t));
  g.label = pi.label();
  g.cgroups.assign(pi.cgroups().begin(), pi.cgroups().end());
  const agent::NamespaceIds& ns = pi.namespaces();
  g.ns = {ns.ipc(), ns.mnt(), ns.net(), ns.pid(), ns.user(), ns.uts(), ns.cgroup(), ns.time()};
  const agent::ProcessIo& io = pi.io();
  g.io = {io.rchar(),
          io.wchar(),
          io.syscr(),
          io.syscw(),
          io.read_bytes(),
          io.write_bytes(),
          io.cancelled_write_bytes()};
  g.oom_score = pi.oom_score();
  g.oom_score_adj = pi.oom_score_adj();
  g.loginuid = pi.loginuid();
  g.exe = pi.exe();
  g.pss_kib = pi.pss_kib();
  g.uss_kib = pi.uss_kib();
  g.autogroup = pi.autogroup();
  g.autogroup_nice = pi.autogroup_nice();
}

}  // namespace

GuestProcessList to_process_list(const std::vector<agent::ProcessInfo>& ps,
                                 const sandbox::ProcessListExtras& extras) {
  GuestProcessList out;
  out.truncated = extras.truncated;
  for (const auto& [uid, name] : extras.users) out.user_ids.emplace(name, uid);
  for (const auto& [gid, name] : extras.groups) out.group_ids.emplace(name, gid);
  for (const auto& pi : ps) {
    GuestProcessInfo g;
    g.pid = pi.pid();
    g.ppid = pi.ppid();
    g.uid = pi.uid();
    g.comm = pi.comm();
    for (const auto& a : pi.args()) g.args.push_back(a);
    g.gid = pi.gid();
    g.state = state_letter(pi.state());
    g.pgid = pi.pgid();
    g.sid = pi.sid();
    g.tty = pi.tty();
    g.cpu_time_ms = pi.cpu_time_ms();
    g.elapsed_ms = pi.elapsed_ms();
    g.priority = pi.priority();
    g.nice = pi.nice();
    g.threads = pi.threads();
    g.vsz_kib = pi.vsz_kib();
    g.rss_kib = pi.rss_kib();
    g.processor = pi.processor();
    g.mem_total_kib = extras.mem_total_kib;
    add_details(pi, g);
    out.processes.push_back(std::move(g));
  }
  return out;
}

}  // namespace hull::container
