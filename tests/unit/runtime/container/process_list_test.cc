// The agent's checked ListProcesses reply as `hull ps` sees it
// (runtime/container/process_list.h).
#include "runtime/container/process_list.h"

#include <gtest/gtest.h>

namespace hull::container {
namespace {

agent::ProcessInfo init_process() {
  agent::ProcessInfo p;
  p.set_pid(1);
  p.set_ppid(0);
  p.set_uid(1000);
  p.set_gid(100);
  p.set_comm("sh");
  p.add_args("sh");
  p.add_args("-c");
  p.add_args("sleep 9");
  p.set_state("S");
  p.set_pgid(1);
  p.set_sid(1);
  p.set_tty(34816);
  p.set_cpu_time_ms(20);
  p.set_elapsed_ms(3000);
  p.set_priority(20);
  p.set_nice(0);
  p.set_threads(2);
  p.set_vsz_kib(1500);
  p.set_rss_kib(700);
  p.set_processor(1);
  return p;
}

TEST(ProcessList, CopiesThePsColumnsOfEachProcessInOrder) {
  agent::ProcessInfo child = init_process();
  child.set_pid(7);
  child.set_ppid(1);
  child.set_comm("sleep");
  child.clear_args();
  child.add_args("sleep");
  child.add_args("9");
  sandbox::ProcessListExtras extras;
  extras.mem_total_kib = 262144;
  auto list = to_process_list({init_process(), child}, extras);
  ASSERT_EQ(list.processes.size(), 2u);
  const GuestProcessInfo& p = list.processes[0];
  EXPECT_EQ(p.pid, 1);
  EXPECT_EQ(p.ppid, 0);
  EXPECT_EQ(p.uid, 1000u);
  EXPECT_EQ(p.gid, 100u);
  EXPECT_EQ(p.comm, "sh");
  EXPECT_EQ(p.args, (std::vector<std::string>{"sh", "-c", "sleep 9"}));
  EXPECT_EQ(p.state, 'S');
  EXPECT_EQ(p.pgid, 1);
  EXPECT_EQ(p.sid, 1);
  EXPECT_EQ(p.tty, 34816u);
  EXPECT_EQ(p.cpu_time_ms, 20u);
  EXPECT_EQ(p.elapsed_ms, 3000u);
  EXPECT_EQ(p.priority, 20);
  EXPECT_EQ(p.threads, 2u);
  EXPECT_EQ(p.vsz_kib, 1500u);
  EXPECT_EQ(p.rss_kib, 700u);
  EXPECT_EQ(p.processor, 1);
  EXPECT_EQ(list.processes[1].pid, 7);
  EXPECT_EQ(list.processes[1].ppid, 1);
  EXPECT_EQ(list.processes[1].args, (std::vector<std::string>{"sleep", "9"}));
  // The guest's MemTotal rides on every process, for %MEM.
  EXPECT_EQ(p.mem_total_kib, 262144u);
  EXPECT_EQ(list.processes[1].mem_total_kib, 262144u);
}

TEST(ProcessList, AnUnreadStateIsAQuestionMark) {
  agent::ProcessInfo p = init_process();
  p.clear_state();
  agent::ThreadInfo* t = p.add_tasks();
  t->set_tid(1);
  auto list = to_process_list({p}, {});
  ASSERT_EQ(list.processes.size(), 1u);
  EXPECT_EQ(list.processes[0].state, '?');
  ASSERT_EQ(list.processes[0].tasks.size(), 1u);
  EXPECT_EQ(list.processes[0].tasks[0].state, '?');
}

TEST(ProcessList, NameTablesAreKeyedByNameAndTruncationCarries) {
  sandbox::ProcessListExtras extras;
  extras.truncated = true;
  extras.users = {{0, "root"}, {1000, "app"}};
  extras.groups = {{0, "root"}, {100, "users"}};
  auto list = to_process_list({}, extras);
  EXPECT_TRUE(list.processes.empty());
  EXPECT_TRUE(list.truncated);
  EXPECT_EQ(list.user_ids, (std::map<std::string, uint32_t>{{"app", 1000}, {"root", 0}}));
  EXPECT_EQ(list.group_ids, (std::map<std::string, uint32_t>{{"root", 0}, {"users", 100}}));
}

TEST(ProcessList, CopiesTheOtherColumnsThreadsAndNamespaces) {
  agent::ProcessInfo p = init_process();
  p.set_tpgid(1);
  p.set_euid(0);
  p.set_fsgid(100);
  p.add_groups(10);
  p.add_groups(100);
  p.mutable_names()->set_user("app");
  p.mutable_names()->set_group("users");
  p.mutable_names()->add_groups("wheel");
  p.mutable_names()->add_groups("users");
  p.set_wchan("do_wait");
  p.set_sig_caught(1ULL << 16);
  p.add_environ("HOME=/");
  p.add_cgroups("0::/");
  p.mutable_namespaces()->set_pid(4026531836);
  p.mutable_io()->set_rchar(12);
  p.mutable_io()->set_cancelled_write_bytes(3);
  p.set_oom_score_adj(-500);
  p.set_exe("/bin/sh");
  p.set_autogroup(-1);
  agent::ThreadInfo* t = p.add_tasks();
  t->set_tid(1);
  t->set_comm("sh");
  t->set_state("R");
  t->set_wchan("");
  t->set_kstk_eip(42);
  auto list = to_process_list({p}, {});
  ASSERT_EQ(list.processes.size(), 1u);
  const GuestProcessInfo& g = list.processes[0];
  EXPECT_EQ(g.tpgid, 1);
  EXPECT_EQ(g.fsgid, 100u);
  EXPECT_EQ(g.groups, (std::vector<uint32_t>{10, 100}));
  EXPECT_EQ(g.user, "app");
  EXPECT_EQ(g.group, "users");
  EXPECT_EQ(g.group_names, (std::vector<std::string>{"wheel", "users"}));
  EXPECT_EQ(g.wchan, "do_wait");
  EXPECT_EQ(g.sig_caught, 1ULL << 16);
  EXPECT_EQ(g.environ, (std::vector<std::string>{"HOME=/"}));
  EXPECT_EQ(g.cgroups, (std::vector<std::string>{"0::/"}));
  EXPECT_EQ(g.ns.pid, 4026531836u);
  EXPECT_EQ(g.io.rchar, 12u);
  EXPECT_EQ(g.io.cancelled_write_bytes, 3u);
  EXPECT_EQ(g.oom_score_adj, -500);
  EXPECT_EQ(g.exe, "/bin/sh");
  EXPECT_EQ(g.autogroup, -1);
  ASSERT_EQ(g.tasks.size(), 1u);
  EXPECT_EQ(g.tasks[0].tid, 1);
  EXPECT_EQ(g.tasks[0].comm, "sh");
  EXPECT_EQ(g.tasks[0].state, 'R');
  EXPECT_EQ(g.tasks[0].kstk_eip, 42u);
}

}  // namespace
}  // namespace hull::container
