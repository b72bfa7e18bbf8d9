// The host's checks of agent replies (runtime/sandbox/agent_reply.h): what an
// honest agent sends passes unchanged, what a lying guest could send is
// refused with an error naming the field and the value.
#include "runtime/sandbox/agent_reply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "agent/proto/constants.h"

namespace hull::sandbox {
namespace {

using ::testing::HasSubstr;

// The error of a refused reply: GuestProtocol, its text containing `what`.
template <class T>
void expect_refused(const Result<T>& r, const std::string& what) {
  ASSERT_FALSE(r) << "accepted, expected: " << what;
  EXPECT_EQ(r.error().code, Errc::GuestProtocol) << r.error().what();
  EXPECT_THAT(r.error().msg, HasSubstr(what));
}

agent::WaitProcessResponse wait_reply(int32_t status, bool signaled, uint32_t sig) {
  agent::WaitProcessResponse r;
  r.set_exit_status(status);
  r.set_signaled(signaled);
  r.set_signal(sig);
  return r;
}

TEST(Utf8, AcceptsUtf8AndRefusesMalformedBytes) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x90\xb3"));  // grüß € 🐳
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\x80"));              // lone continuation byte
}

TEST(Printable, ReplacesControlsAndBadBytesAndCuts) {
  EXPECT_EQ(printable("sleep 10"), "sleep 10");
  EXPECT_EQ(printable("\x1b]0;owned\x07"), "?]0;owned?");
  EXPECT_EQ(printable("a\nb\tc\x7f"), "a?b?c?");
  EXPECT_EQ(printable("\xc2\x9b"
                      "2J"),
            "?2J");  // C1 CSI
  EXPECT_EQ(printable("\xff\xfe"), "??");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a?b");
  EXPECT_EQ(printable("\xe2\x82\xac"), "\xe2\x82\xac");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  // Cut at a character boundary: never half of "€".
  EXPECT_EQ(printable("ab\xe2\x82\xac", 4), "ab...");
  EXPECT_EQ(printable("abc", 3), "abc");
}

TEST(AgentError, MapsTheNamedErrcAndSanitizesTheText) {
  auto e = agent_error(grpc::Status(grpc::StatusCode::NOT_FOUND, "no container x"), "Start");
  EXPECT_EQ(e.code, Errc::NotFound);
  EXPECT_EQ(e.msg, "agent Start: no container x (gRPC code 5)");
  e = agent_error(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "m", "paused"), "Kill");
  EXPECT_EQ(e.code, Errc::Paused);
  e = agent_error(grpc::Status(grpc::StatusCode::UNKNOWN, "m", "NoSuchErrc"), "Kill");
  EXPECT_EQ(e.code, Errc::GuestProtocol);
  e = agent_error(grpc::Status(grpc::StatusCode::INTERNAL, "bad\x1b[2J\xff\n"), "X");
  EXPECT_EQ(e.msg, "agent X: bad?[2J?? (gRPC code 13)");
  e = agent_error(grpc::Status(grpc::StatusCode::INTERNAL, std::string(1 << 20, 'x')), "X");
  EXPECT_LT(e.msg.size(), kMaxAgentErrorBytes + 40);
}

TEST(ParseWait, AcceptsExitsAndSignals) {
  auto r = parse_wait(wait_reply(0, false, 0));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0);
  EXPECT_FALSE(r->signaled);
  r = parse_wait(wait_reply(255, false, 0));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 255);
  r = parse_wait(wait_reply(137, true, 9));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 137);
  EXPECT_TRUE(r->signaled);
  EXPECT_EQ(r->signal, 9);
  // An exit code of 137 without a signal is a plain exit.
  r = parse_wait(wait_reply(137, false, 0));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->signaled);
  ASSERT_TRUE(parse_wait(wait_reply(192, true, 64)));
}

TEST(ParseWait, RefusesWhatNoProcessCanEndWith) {
  expect_refused(parse_wait(wait_reply(70000, false, 0)),
                 "agent reply WaitProcess: exit_status 70000 out of range (0-255)");
  expect_refused(parse_wait(wait_reply(-1, false, 0)), "exit_status -1 out of range");
  expect_refused(parse_wait(wait_reply(256, false, 0)), "exit_status 256 out of range");
  expect_refused(parse_wait(wait_reply(128, true, 0)), "signal 0 out of range (1-64)");
  expect_refused(parse_wait(wait_reply(193, true, 65)), "signal 65 out of range");
  expect_refused(parse_wait(wait_reply(128, true, 4294967295u)), "signal 4294967295 out of range");
  expect_refused(parse_wait(wait_reply(0, false, 9)), "signal 9 without signaled");
  expect_refused(parse_wait(wait_reply(1, true, 9)), "exit_status 1 with signal 9");
}

TEST(ParseWritten, AtMostWhatWasSent) {
  agent::WriteStdinResponse r;
  r.set_written(10);
  auto n = parse_written(r, 10);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 10u);
  r.set_written(0);
  EXPECT_EQ(*parse_written(r, 10), 0u);
  r.set_written(11);
  expect_refused(parse_written(r, 10), "agent reply WriteStdin: written 11 of 10 bytes sent");
}

TEST(CheckIoChunk, BoundedByTheChunkLimit) {
  agent::IoChunk c;
  c.set_data(std::string(agent::kMaxIoChunkBytes, 'x'));
  EXPECT_TRUE(check_io_chunk(c, "ReadStdout"));
  c.mutable_data()->push_back('x');
  expect_refused(check_io_chunk(c, "ReadStdout"), "agent reply ReadStdout: data size " +
                                                      std::to_string(agent::kMaxIoChunkBytes + 1));
}

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

agent::StatsContainerResponse stats_reply() {
  agent::StatsContainerResponse r;
  agent::CgroupStats* c = r.mutable_cgroup();
  c->set_cpu_usage_usec(1500);
  c->set_cpu_user_usec(1000);
  c->set_cpu_system_usec(500);
  c->set_memory_current(8 << 20);
  c->set_memory_max(0);
  c->set_pids_current(3);
  c->set_pids_max(4194304);
  c->set_io_read_bytes(UINT64_MAX);
  c->set_oom_kills(2);
  return r;
}

TEST(ParseStats, KeepsHonestCounters) {
  auto s = parse_stats(stats_reply());
  ASSERT_TRUE(s) << s.error().what();
  EXPECT_EQ(s->cpu_usage_usec(), 1500u);
  EXPECT_EQ(s->memory_current(), 8u << 20);
  EXPECT_EQ(s->pids_max(), 4194304u);
  EXPECT_EQ(s->io_read_bytes(), UINT64_MAX);
  EXPECT_EQ(s->oom_kills(), 2u);
}

TEST(ParseStats, RefusesCountersNoCgroupHas) {
  expect_refused(parse_stats(agent::StatsContainerResponse()),
                 "agent reply StatsContainer: no cgroup");
  auto r = stats_reply();
  r.mutable_cgroup()->set_cpu_usage_usec(kMaxCpuUsec + 1);  // * 1000 would wrap
  expect_refused(parse_stats(r), "cgroup.cpu_usage_usec 18446744073709552 out of range");
  r = stats_reply();
  r.mutable_cgroup()->set_cpu_system_usec(UINT64_MAX);
  expect_refused(parse_stats(r), "cgroup.cpu_system_usec 18446744073709551615 out of range");
  r = stats_reply();
  r.mutable_cgroup()->set_memory_max(uint64_t{1} << 63);
  expect_refused(parse_stats(r), "cgroup.memory_max 9223372036854775808 out of range");
  r = stats_reply();
  r.mutable_cgroup()->set_pids_current(kMaxGuestPid + 1);
  expect_refused(parse_stats(r), "cgroup.pids_current 4194305 out of range (at most 4194304)");
}

TEST(ParseOomEvent, AContainerId) {
  agent::OomEvent e;
  e.set_container_id("web-1_a.b+c");
  auto id = parse_oom_event(e);
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, "web-1_a.b+c");
  e.set_container_id("");
  expect_refused(parse_oom_event(e), "agent reply OomEvents: container_id is empty");
  for (const char* bad : {"..", ".", "../x", "a/b", "a b", "x\n"}) {
    e.set_container_id(bad);
    expect_refused(parse_oom_event(e), "is not a container id");
  }
  e.set_container_id(std::string(256, 'a'));
  expect_refused(parse_oom_event(e), "container_id length 256 out of range (at most 255)");
}

TEST(CheckHealth, OnlyServingIsHealthy) {
  agent::HealthResponse r;
  r.set_status(agent::HealthResponse::SERVING);
  EXPECT_TRUE(check_health(r));
  r.set_status(agent::HealthResponse::UNKNOWN);
  auto st = check_health(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::NotRunning);
  r.set_status(static_cast<agent::HealthResponse::Status>(77));
  EXPECT_THAT(check_health(r).error().msg, HasSubstr("status 77"));
}

agent::GuestDetailsResponse details() {
  agent::GuestDetailsResponse d;
  d.set_kernel_release("6.1.0-hull");
  d.set_kernel_version("#1 SMP PREEMPT_DYNAMIC");
  d.set_machine("x86_64");
  d.set_agent_version("0.1.0");
  d.set_agent_commit("44e9c7b0a1b2");
  d.set_agent_start_boottime_ns(100);
  d.set_agent_ready_boottime_ns(200);
  d.set_now_boottime_ns(300);
  d.set_mem_total_kib(200000);
  d.set_mem_available_kib(150000);
  d.set_online_cpus(2);
  return d;
}

TEST(ParseGuestDetails, KeepsHonestDetails) {
  auto d = parse_guest_details(details());
  ASSERT_TRUE(d) << d.error().what();
  EXPECT_EQ(d->machine(), "x86_64");
  auto early = details();
  early.set_agent_ready_boottime_ns(0);  // asked before the service said it was ready
  EXPECT_TRUE(parse_guest_details(early));
  EXPECT_TRUE(parse_guest_details(agent::GuestDetailsResponse()));
}

TEST(ParseGuestDetails, RefusesLies) {
  auto d = details();
  d.set_kernel_release("6.1\x1b[31m");
  expect_refused(parse_guest_details(d), "kernel_release \"6.1?[31m\" has control characters");
  d = details();
  d.set_machine(std::string(kMaxDetailBytes + 1, 'm'));
  expect_refused(parse_guest_details(d), "machine of 257 bytes");
  d = details();
  d.set_agent_commit("\xc0\xaf");
  expect_refused(parse_guest_details(d), "agent_commit \"??\" is not UTF-8");
  d = details();
  d.set_agent_start_boottime_ns(400);
  expect_refused(parse_guest_details(d), "agent_start_boottime_ns 400 after now_boottime_ns 300");
  d = details();
  d.set_agent_ready_boottime_ns(50);
  expect_refused(parse_guest_details(d), "agent_ready_boottime_ns 50 not between");
  d = details();
  d.set_mem_available_kib(200001);
  expect_refused(parse_guest_details(d), "mem_available_kib 200001 above mem_total_kib 200000");
  d = details();
  d.set_online_cpus(100000);
  expect_refused(parse_guest_details(d), "online_cpus 100000 out of range");
}

TEST(ParseSharedFile, DataWithinWhatWasAskedAndTheFileSize) {
  agent::ReadSharedFileResponse r;
  r.set_data("abcd");
  r.set_size(10);
  auto f = parse_shared_file(r, 4);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->data(), "abcd");
  expect_refused(parse_shared_file(r, 3), "4 bytes of data, asked for at most 3");
  r.set_size(2);
  expect_refused(parse_shared_file(r, 4), "size 2 below the 4 bytes of data");
}

agent::Interface eth0() {
  agent::Interface i;
  i.set_name("eth0");
  i.set_mac("02:42:ac:11:00:02");
  i.set_mtu(1500);
  auto* a = i.add_addresses();
  a->set_address("172.17.0.2");
  a->set_prefix_len(16);
  auto* b = i.add_addresses();
  b->set_address("fe80::42:acff:fe11:2");
  b->set_prefix_len(64);
  i.set_up(true);
  return i;
}

TEST(ParseInterface, KeepsHonestInterface) {
  auto r = parse_updated_interface(eth0(), eth0());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->addresses_size(), 2);
  agent::Interface upper = eth0();
  upper.set_mac("02:42:AC:11:00:02");
  EXPECT_TRUE(parse_updated_interface(upper, eth0()));
}

TEST(ParseInterface, RefusesLies) {
  auto with = [](auto f) {
    agent::Interface i = eth0();
    f(i);
    return i;
  };
  expect_refused(parse_interface(with([](auto& i) { i.set_name(""); }), "UpdateInterface"),
                 "name is empty");
  expect_refused(
      parse_interface(with([](auto& i) { i.set_name("a-very-long-interface"); }), "ListInterfaces"),
      "name");
  expect_refused(parse_interface(with([](auto& i) { i.set_name("eth\x1b"); }), "ListInterfaces"),
                 "control characters");
  expect_refused(parse_interface(with([](auto& i) { i.set_name("a/b"); }), "ListInterfaces"),
                 "no interface name");
  expect_refused(parse_interface(with([](auto& i) { i.set_mac("02:42:ac:11:00"); }), "x"),
                 "no MAC address");
  expect_refused(parse_interface(with([](auto& i) { i.set_mtu(70000); }), "x"), "mtu");
  expect_refused(
      parse_interface(with([](auto& i) { i.mutable_addresses(0)->set_address("1.2.3"); }), "x"),
      "no IP address");
  expect_refused(
      parse_interface(with([](auto& i) { i.mutable_addresses(0)->set_prefix_len(33); }), "x"),
      "prefix length 33");
  expect_refused(parse_interface(with([](auto& i) {
                                   for (int n = 0; n < 300; ++n) i.add_addresses();
                                 }),
                                 "x"),
                 "addresses");
  expect_refused(parse_updated_interface(with([](auto& i) { i.set_name("eth1"); }), eth0()),
                 "asked for");
  expect_refused(parse_updated_interface(with([](auto& i) { i.set_mtu(1400); }), eth0()),
                 "MTU 1400");
}

TEST(ParseRoutes, KeepsHonestRoutes) {
  agent::Routes rs;
  auto* d = rs.add_routes();
  d->set_destination("default");
  d->set_gateway("172.17.0.1");
  d->set_device("eth0");
  auto* s = rs.add_routes();
  s->set_destination("2001:db8::/64");
  s->set_device("eth0");
  auto* v6 = rs.add_routes();
  v6->set_destination("::/0");
  v6->set_gateway("fe80::1");
  auto r = parse_routes(rs, "UpdateRoutes");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->routes_size(), 3);
}

TEST(ParseRoutes, RefusesLies) {
  auto one = [](auto f) {
    agent::Routes rs;
    auto* r = rs.add_routes();
    r->set_destination("10.0.0.0/8");
    f(*r);
    return rs;
  };
  for (const char* d : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "x/8", "10.0.0.0/8a",
                        "2001:db8::/129", "10.0.0.0/0008"}) {
    expect_refused(parse_routes(one([&](auto& r) { r.set_destination(d); }), "ListRoutes"),
                   "no route destination");
  }
  expect_refused(parse_routes(one([](auto& r) { r.set_gateway("gw"); }), "x"), "gateway");
  expect_refused(parse_routes(one([](auto& r) { r.set_source("1.1.1.1.1"); }), "x"), "source");
  expect_refused(parse_routes(one([](auto& r) { r.set_device("a b"); }), "x"), "device");
  expect_refused(parse_routes(one([](auto& r) { r.set_scope(300); }), "x"), "scope");
  expect_refused(parse_routes(one([](auto& r) { r.set_family(5); }), "x"), "family 5");
  expect_refused(parse_routes(one([](auto& r) { r.set_mtu(70000); }), "x"), "mtu");
  agent::Routes many;
  for (int n = 0; n < 5000; ++n) many.add_routes()->set_destination("default");
  expect_refused(parse_routes(many, "x"), "routes");
}

}  // namespace
}  // namespace hull::sandbox
