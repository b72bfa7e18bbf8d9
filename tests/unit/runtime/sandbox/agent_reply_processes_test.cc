// The host's checks of ListProcesses replies (runtime/sandbox/agent_reply.h,
// agent_reply_processes.cc).
#include "runtime/sandbox/agent_reply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "agent/proto/constants.h"
#include "tests/unit/runtime/sandbox/agent_reply_expect.h"

namespace hull::sandbox {
namespace {

agent::ProcessInfo* add_process(agent::ListProcessesResponse& r, int32_t pid, int32_t ppid,
                                const std::string& comm = "sleep") {
  agent::ProcessInfo* p = r.add_processes();
  p->set_pid(pid);
  p->set_ppid(ppid);
  p->set_uid(1000);
  p->set_comm(comm);
  p->add_args(comm);
  p->add_args("1000");
  return p;
}

TEST(ParseProcesses, KeepsAnHonestList) {
  agent::ListProcessesResponse r;
  add_process(r, 1, 0, "sh");
  add_process(r, 7, 1);
  add_process(r, 4194304, 7);
  auto ps = parse_processes(r);
  ASSERT_TRUE(ps) << ps.error().what();
  ASSERT_EQ(ps->size(), 3u);
  EXPECT_EQ((*ps)[0].comm(), "sh");
  EXPECT_EQ((*ps)[1].pid(), 7);
  EXPECT_EQ((*ps)[1].ppid(), 1);
  EXPECT_EQ((*ps)[1].uid(), 1000u);
  ASSERT_EQ((*ps)[1].args_size(), 2);
  EXPECT_EQ((*ps)[1].args(1), "1000");
  EXPECT_TRUE(parse_processes(agent::ListProcessesResponse()));
}

TEST(ParseProcesses, ShowsControlCharactersOfArgsAsQuestionMarks) {
  agent::ListProcessesResponse r;
  agent::ProcessInfo* p = add_process(r, 5, 1, "ev\x1bil");
  p->set_args(1, "\x1b]2;title\x07\nnext");
  auto ps = parse_processes(r);
  ASSERT_TRUE(ps) << ps.error().what();
  EXPECT_EQ((*ps)[0].comm(), "ev?il");
  EXPECT_EQ((*ps)[0].args(1), "?]2;title??next");
}

TEST(ParseProcesses, RefusesImpossiblePidsAndUids) {
  agent::ListProcessesResponse r;
  add_process(r, 0, 1);
  expect_refused(parse_processes(r),
                 "agent reply ListProcesses: processes[0].pid 0 out of range (1-4194304)");
  r.mutable_processes(0)->set_pid(-5);
  expect_refused(parse_processes(r), "processes[0].pid -5 out of range");
  r.mutable_processes(0)->set_pid(4194305);
  expect_refused(parse_processes(r), "processes[0].pid 4194305 out of range");
  r.mutable_processes(0)->set_pid(3);
  r.mutable_processes(0)->set_ppid(-1);
  expect_refused(parse_processes(r), "processes[0].ppid -1 out of range (0-4194304)");
  r.mutable_processes(0)->set_ppid(1);
  r.mutable_processes(0)->set_uid(UINT32_MAX);
  expect_refused(parse_processes(r), "processes[0].uid 4294967295 is not a uid");
}

// The ps(1) columns (ProcessInfo fields 6-18) and the reply's MemTotal.
TEST(ParseProcesses, RefusesPsColumnsNoKernelWrites) {
  agent::ListProcessesResponse r;
  agent::ProcessInfo* p = add_process(r, 5, 1);
  p->set_state("S");
  p->set_pgid(5);
  p->set_sid(5);
  p->set_priority(-100);
  p->set_nice(19);
  p->set_threads(3);
  p->set_cpu_time_ms(kMaxProcessTimeMs);
  p->set_rss_kib(kMaxMemoryBytes / 1024);
  r.set_mem_total_kib(kMaxMemoryBytes / 1024);
  ASSERT_TRUE(parse_processes(r));
  auto refused = [&](auto set, const std::string& what) {
    agent::ListProcessesResponse bad = r;
    set(*bad.mutable_processes(0));
    expect_refused(parse_processes(bad), what);
  };
  refused([](agent::ProcessInfo& q) { q.set_state("RS"); },
          "processes[0].state \"RS\" is not a process state");
  refused([](agent::ProcessInfo& q) { q.set_state("Q"); }, "processes[0].state \"Q\"");
  refused([](agent::ProcessInfo& q) { q.set_gid(UINT32_MAX); },
          "processes[0].gid 4294967295 is not a gid");
  refused([](agent::ProcessInfo& q) { q.set_pgid(-1); },
          "processes[0].pgid -1 out of range (0-4194304)");
  refused([](agent::ProcessInfo& q) { q.set_sid(4194305); },
          "processes[0].sid 4194305 out of range");
  refused([](agent::ProcessInfo& q) { q.set_priority(140); },
          "processes[0].priority 140 out of range (-100-139)");
  refused([](agent::ProcessInfo& q) { q.set_nice(-21); }, "processes[0].nice -21 out of range");
  refused([](agent::ProcessInfo& q) { q.set_processor(-1); }, "processes[0].processor -1");
  refused([](agent::ProcessInfo& q) { q.set_threads(4194305); }, "processes[0].threads 4194305");
  refused([](agent::ProcessInfo& q) { q.set_elapsed_ms(kMaxProcessTimeMs + 1); },
          "processes[0].elapsed_ms");
  refused([](agent::ProcessInfo& q) { q.set_vsz_kib(UINT64_MAX); }, "processes[0].vsz_kib");
  r.set_mem_total_kib(kMaxMemoryBytes / 1024 + 1);
  expect_refused(parse_processes(r), "mem_total_kib");
}

TEST(ParseProcesses, RefusesTheSamePidTwice) {
  agent::ListProcessesResponse r;
  add_process(r, 9, 1);
  add_process(r, 3, 1);
  add_process(r, 9, 1);
  expect_refused(parse_processes(r), "pid 9 listed twice");
}

TEST(ParseProcesses, RefusesBadStrings) {
  agent::ListProcessesResponse r;
  add_process(r, 2, 1, std::string("a\0b", 3));
  expect_refused(parse_processes(r), "processes[0].comm \"a?b\" has a NUL");
  r.mutable_processes(0)->set_comm(std::string(kMaxCommBytes + 1, 'c'));
  expect_refused(parse_processes(r), "processes[0].comm of 65 bytes (at most 64)");
  r.mutable_processes(0)->set_comm("ok");
  r.mutable_processes(0)->set_args(0, "\xff\xfe");
  expect_refused(parse_processes(r), "processes[0].args[0] \"??\" is not UTF-8");
  r.mutable_processes(0)->set_args(0, std::string("x\0", 2));
  expect_refused(parse_processes(r), "processes[0].args[0] \"x?\" has a NUL");
}

TEST(ParseProcesses, RefusesHugeCounts) {
  agent::ListProcessesResponse r;
  for (size_t i = 0; i <= kMaxReplyProcesses; ++i) r.add_processes()->set_pid(1);
  expect_refused(parse_processes(r), "processes count 65537 out of range (at most 65536)");

  agent::ListProcessesResponse args;
  agent::ProcessInfo* p = add_process(args, 2, 1);
  p->clear_args();
  for (size_t i = 0; i < kMaxCmdlineBytes / 2; ++i) p->add_args("a");
  EXPECT_TRUE(parse_processes(args));
  p->add_args("a");
  expect_refused(parse_processes(args), "processes[0].args bytes 131074 out of range");
  p->clear_args();
  p->add_args(std::string(kMaxCmdlineBytes, 'a'));
  expect_refused(parse_processes(args), "processes[0].args bytes 131073 out of range");
}

// ps(1)'s other columns (ProcessInfo fields 19 and up): what an agent reads
// passes, what no kernel or image writes is refused by field, and every
// string comes back printable.
TEST(ParseProcesses, TheOtherPsColumns) {
  agent::ListProcessesResponse r;
  agent::ProcessInfo* p = add_process(r, 5, 1);
  p->set_tpgid(-1);
  p->set_policy(2);
  p->set_rt_priority(99);
  p->set_euid(1000);
  p->add_groups(5);
  p->mutable_names()->set_user("alice");
  p->mutable_names()->add_groups("tty");
  p->set_wchan("do_nanosleep");
  p->add_environ("TERM=xterm");
  p->add_cgroups("0::/hull/c");
  p->set_exe("/bin/sleep");
  p->set_oom_score(2000);
  p->set_oom_score_adj(-1000);
  p->set_autogroup(-1);
  agent::ThreadInfo* t = p->add_tasks();
  t->set_tid(5);
  t->set_state("S");
  t->set_comm("sleep");
  t->set_wchan("futex_wait");
  ASSERT_TRUE(parse_processes(r));
  auto refused = [&](auto set, const std::string& what) {
    agent::ListProcessesResponse bad = r;
    set(*bad.mutable_processes(0));
    expect_refused(parse_processes(bad), what);
  };
  refused([](agent::ProcessInfo& q) { q.set_tpgid(-2); }, "processes[0].tpgid -2 out of range");
  refused([](agent::ProcessInfo& q) { q.set_policy(8); }, "processes[0].policy 8");
  refused([](agent::ProcessInfo& q) { q.set_rt_priority(100); }, "processes[0].rt_priority 100");
  refused([](agent::ProcessInfo& q) { q.set_euid(UINT32_MAX); },
          "processes[0].euid 4294967295 is not an id");
  refused([](agent::ProcessInfo& q) { q.add_groups(UINT32_MAX); },
          "processes[0].groups: 4294967295 is not a gid");
  refused([](agent::ProcessInfo& q) { q.mutable_names()->add_groups("x"); },
          "processes[0].names.groups: 2 names for 1 groups");
  refused([](agent::ProcessInfo& q) { q.mutable_names()->set_user(std::string(257, 'u')); },
          "processes[0].names.user of 257 bytes (at most 256)");
  refused([](agent::ProcessInfo& q) { q.set_wchan("\xff"); }, "processes[0].wchan");
  refused([](agent::ProcessInfo& q) { q.set_share_kib(UINT64_MAX); }, "processes[0].share_kib");
  refused([](agent::ProcessInfo& q) { q.add_environ(std::string(kMaxEnvironBytes, 'e')); },
          "processes[0].environ bytes");
  refused([](agent::ProcessInfo& q) { q.mutable_tasks(0)->set_tid(0); },
          "processes[0].tasks[0].tid 0 out of range");
  refused([](agent::ProcessInfo& q) { q.mutable_tasks(0)->set_state("Q"); },
          "processes[0].tasks[0].state \"Q\"");
  refused([](agent::ProcessInfo& q) { q.mutable_tasks(0)->set_nice(20); },
          "processes[0].tasks[0].nice 20 out of range");
  refused([](agent::ProcessInfo& q) { q.set_label(std::string(kMaxPathBytes + 1, 'l')); },
          "processes[0].label of 4097 bytes");
  refused(
      [](agent::ProcessInfo& q) {
        for (int i = 0; i < 65; ++i) q.add_cgroups("0::/");
      },
      "processes[0].cgroups count 66");
  refused([](agent::ProcessInfo& q) { q.set_oom_score(2001); }, "processes[0].oom_score 2001");
  refused([](agent::ProcessInfo& q) { q.set_oom_score_adj(1001); },
          "processes[0].oom_score_adj 1001");
  refused([](agent::ProcessInfo& q) { q.set_autogroup_nice(20); },
          "processes[0].autogroup_nice 20");

  p->add_environ("EVIL=\x1b[2J");
  p->mutable_names()->set_group("g\x1b");
  t->set_comm("t\x07");
  p->set_exe("/tmp/\x1b]0;x");
  auto ps = parse_processes(r);
  ASSERT_TRUE(ps) << ps.error().what();
  EXPECT_EQ((*ps)[0].environ(1), "EVIL=?[2J");
  EXPECT_EQ((*ps)[0].names().group(), "g?");
  EXPECT_EQ((*ps)[0].tasks(0).comm(), "t?");
  EXPECT_EQ((*ps)[0].exe(), "/tmp/?]0;x");
}

TEST(ParseProcessListExtras, TheNameTables) {
  agent::ListProcessesResponse r;
  r.set_mem_total_kib(2048);
  r.set_truncated(true);
  auto add = [](auto* to, uint32_t id, const std::string& name) {
    agent::IdName* n = to->Add();
    n->set_id(id);
    n->set_name(name);
  };
  add(r.mutable_users(), 0, "root");
  add(r.mutable_users(), 65534, "nobody");
  add(r.mutable_groups(), 5, "tty");
  auto x = parse_process_list_extras(r);
  ASSERT_TRUE(x) << x.error().what();
  EXPECT_EQ(x->mem_total_kib, 2048u);
  EXPECT_TRUE(x->truncated);
  ASSERT_EQ(x->users.size(), 2u);
  EXPECT_EQ(x->users[1], (std::pair<uint32_t, std::string>{65534, "nobody"}));
  EXPECT_EQ(x->groups[0].second, "tty");
  agent::ListProcessesResponse bad = r;
  add(bad.mutable_users(), UINT32_MAX, "x");
  expect_refused(parse_process_list_extras(bad), "users: 4294967295 is not an id");
  bad = r;
  add(bad.mutable_groups(), 9, "");
  expect_refused(parse_process_list_extras(bad), "groups: an empty name");
  bad = r;
  add(bad.mutable_users(), 9, "a\x1b");
  expect_refused(parse_process_list_extras(bad), "has control characters");
  bad = r;
  for (size_t i = 0; i < kMaxReplyIdNames; ++i) add(bad.mutable_groups(), 1, "g");
  expect_refused(parse_process_list_extras(bad), "groups count 4097");
  bad = r;
  bad.set_mem_total_kib(UINT64_MAX);
  expect_refused(parse_process_list_extras(bad), "mem_total_kib");
}

}  // namespace
}  // namespace hull::sandbox
