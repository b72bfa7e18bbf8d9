// Pure parts of the agent's container RPCs: cgroup stats as the API reports
// them, /proc parsing for ListProcesses, waitpid statuses as WaitProcess
// answers them, and the Errc <-> gRPC status mapping both ends share.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "agent/proto/error_codec.h"
#include "agent/rpc/containers.h"
#include "agent/rpc/process_record.h"
#include "agent/rpc/stats.h"

namespace hull::agent::rpc {
namespace {

TEST(FlatKeyedValue, FindsTheKeyOnItsOwnLine) {
  std::string_view ev = "low 0\nhigh 2\nmax 7\noom 3\noom_kill 2\noom_group_kill 0\n";
  EXPECT_EQ(flat_keyed_value(ev, "oom_kill"), 2u);
  EXPECT_EQ(flat_keyed_value(ev, "oom"), 3u);  // not oom_kill's prefix
  EXPECT_EQ(flat_keyed_value(ev, "max"), 7u);
  EXPECT_EQ(flat_keyed_value(ev, "missing"), std::nullopt);
  EXPECT_EQ(flat_keyed_value("oom_kill x\n", "oom_kill"), std::nullopt);
  EXPECT_EQ(flat_keyed_value("oom_kill 5", "oom_kill"), 5u);  // no trailing newline
  EXPECT_EQ(flat_keyed_value("", "oom_kill"), std::nullopt);
}

TEST(ToProto, MapsTheEngineStats) {
  engine::CgroupStats s;
  s.cpu = {{"usage_usec", 1000}, {"user_usec", 600}, {"system_usec", 400}};
  s.memory_current = 4096;
  s.memory_max = 1 << 20;
  s.swap_current = 12;
  s.pids_current = 3;
  s.pids_max = std::nullopt;  // "max"
  s.memory_events = {{"oom_kill", 2}};
  cgroup::IoDeviceStat a, b;
  a.fields = {{"rbytes", 10}, {"wbytes", 20}};
  b.fields = {{"rbytes", 1}, {"wbytes", 2}, {"rios", 9}};
  s.io = {a, b};
  CgroupStats p = to_proto(s);
  EXPECT_EQ(p.cpu_usage_usec(), 1000u);
  EXPECT_EQ(p.cpu_user_usec(), 600u);
  EXPECT_EQ(p.cpu_system_usec(), 400u);
  EXPECT_EQ(p.memory_current(), 4096u);
  EXPECT_EQ(p.memory_max(), 1u << 20);
  EXPECT_EQ(p.memory_swap_current(), 12u);
  EXPECT_EQ(p.pids_current(), 3u);
  EXPECT_EQ(p.pids_max(), 0u);
  EXPECT_EQ(p.io_read_bytes(), 11u);
  EXPECT_EQ(p.io_write_bytes(), 22u);
  EXPECT_EQ(p.oom_kills(), 2u);
  EXPECT_EQ(to_proto(engine::CgroupStats{}).memory_max(), 0u);  // unlimited
}

TEST(ParseProcStat, CommWithSpacesAndParens) {
  auto st = parse_proc_stat("42 (my (odd) comm) S 7 42 42 0 -1 4194560 ...");
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->pid, 42);
  EXPECT_EQ(st->ppid, 7);
  EXPECT_EQ(st->comm, "my (odd) comm");
  auto sh = parse_proc_stat("1 (sh) S 0 1 1 0 -1");
  ASSERT_TRUE(sh);
  EXPECT_EQ(sh->ppid, 0);
}

// Every field `hull ps -o ...` shows, from a line the kernel wrote.
TEST(ParseProcStat, TheFieldsPsShows) {
  auto st = parse_proc_stat(
      "207 (sleep) S 1 205 205 34816 207 4194560 105 0 0 0 12 34 0 0 20 -5 3 0 1500 "
      "1699840 66 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0");
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->pgrp, 205);
  EXPECT_EQ(st->session, 205);
  EXPECT_EQ(st->tty_nr, 34816u);  // pts/0
  EXPECT_EQ(st->utime, 12u);
  EXPECT_EQ(st->stime, 34u);
  EXPECT_EQ(st->priority, 20);
  EXPECT_EQ(st->nice, -5);
  EXPECT_EQ(st->num_threads, 3u);
  EXPECT_EQ(st->start_time, 1500u);
  EXPECT_EQ(st->vsize, 1699840u);
  EXPECT_EQ(st->rss, 66u);
  EXPECT_EQ(st->processor, 1);

  ProcessInfo info;
  set_times_and_sizes(*st, 20000, 100, 4, &info);
  EXPECT_EQ(info.cpu_time_ms(), 460u);
  EXPECT_EQ(info.elapsed_ms(), 5000u);  // started at 15 s, now 20 s
  EXPECT_EQ(info.vsz_kib(), 1660u);
  EXPECT_EQ(info.rss_kib(), 264u);
  set_times_and_sizes(*st, 1000, 100, 4, &info);  // uptime read before start: 0, not a wrap
  EXPECT_EQ(info.elapsed_ms(), 0u);
}

TEST(ParseStatus, UidAndGid) {
  std::string status = "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nGid:\t50\t51\t51\t51\n";
  EXPECT_EQ(*parse_status_uid(status), 1000u);
  EXPECT_EQ(*parse_status_gid(status), 50u);
  EXPECT_FALSE(parse_status_gid("Name:\tsh\nUid:\t0\n"));
}

TEST(ParseProcStat, RejectsGarbage) {
  for (std::string_view bad : {"", "42", "42 (sh)", "x (sh) S 1", "42 (sh) S", "42 (sh) S y"}) {
    auto st = parse_proc_stat(bad);
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(st.error().code, Errc::Invalid) << bad;
  }
}

TEST(PrintableUtf8, KeepsValidTextAndReplacesEachBadByte) {
  EXPECT_EQ(printable_utf8("sleep"), "sleep");
  EXPECT_EQ(printable_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
  EXPECT_EQ(printable_utf8("a\xff"
                           "b"),
            "a?b");
  EXPECT_EQ(printable_utf8("\xc3"), "?");                 // cut short
  EXPECT_EQ(printable_utf8("\xc0\xaf"), "??");            // overlong '/'
  EXPECT_EQ(printable_utf8("\xed\xa0\x80"), "???");       // a UTF-16 surrogate
  EXPECT_EQ(printable_utf8("\xf4\x90\x80\x80"), "????");  // past U+10FFFF
  EXPECT_EQ(printable_utf8(std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(printable_utf8(""), "");
}

TEST(ParseStatusUid, RealUid) {
  auto uid = parse_status_uid("Name:\tsh\nUmask:\t0022\nUid:\t1000\t1001\t1002\t1003\nGid:\t0\n");
  ASSERT_TRUE(uid) << uid.error().what();
  EXPECT_EQ(*uid, 1000u);
  EXPECT_FALSE(parse_status_uid("Name:\tsh\n"));
  EXPECT_FALSE(parse_status_uid("Name:\tsh\nUid:\tx\n"));
}

TEST(SplitCmdline, NulSeparated) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_cmdline(std::string_view("sh\0-c\0echo hi\0", 14)), (V{"sh", "-c", "echo hi"}));
  EXPECT_EQ(split_cmdline(""), V{});
  EXPECT_EQ(split_cmdline(std::string_view("a\0\0b\0", 5)), (V{"a", "", "b"}));
}

TEST(WaitResponse, ExitCodesAndSignals) {
  WaitProcessResponse exited = wait_response(W_EXITCODE(3, 0));
  EXPECT_EQ(exited.exit_status(), 3);
  EXPECT_FALSE(exited.signaled());
  WaitProcessResponse killed = wait_response(SIGKILL);  // WIFSIGNALED, no core
  EXPECT_EQ(killed.exit_status(), 137);
  EXPECT_TRUE(killed.signaled());
  EXPECT_EQ(killed.signal(), static_cast<uint32_t>(SIGKILL));
}

TEST(ProcessRecord, WaitersGetTheStatusOnceAndLateOnesAtOnce) {
  ProcessRecord r("c", "");
  r.pid = 10;
  int calls = 0, seen = -2;
  r.add_waiter([&](int st) {
    ++calls;
    seen = st;
  });
  EXPECT_FALSE(r.reported());
  r.on_reaped(10, W_EXITCODE(5, 0));
  r.on_reaped(10, W_EXITCODE(6, 0));  // a second report changes nothing
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, W_EXITCODE(5, 0));
  EXPECT_TRUE(r.reported());
  int late = -2;
  r.add_waiter([&](int st) { late = st; });
  EXPECT_EQ(late, W_EXITCODE(5, 0));
}

TEST(ProcessRecord, CancelledWaitersArePrunedAndAbandonReachesTheRest) {
  ProcessRecord r("c", "e");
  int abandoned = 0;
  bool pending = true;
  r.add_waiter([&](int) { ++abandoned; }, [&] { return pending; });
  pending = false;  // that call was cancelled: the next add drops it
  r.add_waiter([&](int st) {
    EXPECT_EQ(st, kAbandonedStatus);
    ++abandoned;
  });
  r.abandon_waiters();
  EXPECT_EQ(abandoned, 1);
  int after = 0;
  r.add_waiter([&](int st) { after = st; });
  EXPECT_EQ(after, kAbandonedStatus);
}

TEST(ParseProcessJson, NamesTheField) {
  auto ok = parse_process_json(R"({"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}})");
  ASSERT_TRUE(ok) << ok.error().what();
  EXPECT_EQ(ok->args->at(0), "sh");
  auto bad = parse_process_json(R"({"args":"sh","cwd":"/"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::Invalid);
  EXPECT_NE(bad.error().what().find("process.args"), std::string::npos) << bad.error().what();
  auto empty = parse_process_json(R"({"args":[],"cwd":"/"})");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().what().find("process.args"), std::string::npos);
  auto relative = parse_process_json(R"({"args":["sh"],"cwd":"tmp"})");
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.error().what().find("process.cwd"), std::string::npos);
  EXPECT_FALSE(parse_process_json(R"({"args":["sh"],"cwd":"/"}})"));  // breaks out: not JSON
  EXPECT_FALSE(parse_process_json("not json"));
}

TEST(ParseResourcesJson, NamesTheField) {
  auto ok = parse_resources_json(R"({"memory":{"limit":1048576},"pids":{"limit":5}})");
  ASSERT_TRUE(ok) << ok.error().what();
  EXPECT_EQ(ok->memory->limit, 1048576);
  EXPECT_EQ(ok->pids->limit, 5);
  auto bad = parse_resources_json(R"({"memory":{"limit":"lots"}})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().what().find("memory.limit"), std::string::npos) << bad.error().what();
}

TEST(ErrorCodec, EveryErrcSurvivesTheRoundTrip) {
  for (int i = 0; i <= static_cast<int>(Errc::Internal); ++i) {
    Errc c = static_cast<Errc>(i);
    grpc::Status st = to_grpc_status(Error{c, 0, "config.json: process.cwd: bad"});
    EXPECT_EQ(st.error_code(), grpc_code_for(c));
    EXPECT_EQ(st.error_message(), "config.json: process.cwd: bad");
    EXPECT_EQ(errc_for_status(st), c) << errc_name(c);
  }
  EXPECT_EQ(grpc_code_for(Errc::Invalid), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grpc_code_for(Errc::NotFound), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(grpc_code_for(Errc::InvalidState), grpc::StatusCode::FAILED_PRECONDITION);
  // The errno's text is part of the message.
  grpc::Status sys = to_grpc_status(Error{Errc::System, ENOENT, "open x"});
  EXPECT_EQ(sys.error_message(), "open x: No such file or directory");
}

TEST(ErrorCodec, WithoutDetailsTheCodeDecides) {
  using grpc::StatusCode;
  EXPECT_EQ(errc_for_status(grpc::Status(StatusCode::DEADLINE_EXCEEDED, "")), Errc::Timeout);
  EXPECT_EQ(errc_for_status(grpc::Status(StatusCode::UNAVAILABLE, "")), Errc::NotRunning);
  EXPECT_EQ(errc_for_status(grpc::Status(StatusCode::NOT_FOUND, "")), Errc::NotFound);
  EXPECT_EQ(errc_for_status(grpc::Status(StatusCode::ALREADY_EXISTS, "")), Errc::Exists);
  EXPECT_EQ(errc_for_status(grpc::Status(StatusCode::INTERNAL, "")), Errc::GuestProtocol);
  EXPECT_EQ(errc_for_status(grpc::Status(StatusCode::INTERNAL, "", "no such errc")),
            Errc::GuestProtocol);
  EXPECT_EQ(errc_from_name("not running"), Errc::NotRunning);
  EXPECT_EQ(errc_from_name(""), std::nullopt);
}

}  // namespace
}  // namespace hull::agent::rpc

namespace hull::agent::rpc {
namespace {

TEST(JoinGuestNetwork, NewNetworkNamespaceBecomesTheGuestsRootOne) {
  oci::Spec spec;
  spec.linux = oci::Linux{};
  spec.linux->namespaces = std::vector<oci::Namespace>{
      {"pid", std::nullopt, {}}, {"network", std::nullopt, {}}, {"mount", std::nullopt, {}}};
  join_guest_network(spec);
  ASSERT_EQ(spec.linux->namespaces->size(), 2u);
  EXPECT_EQ((*spec.linux->namespaces)[0].type, "pid");
  EXPECT_EQ((*spec.linux->namespaces)[1].type, "mount");
  // A path (a guest namespace someone made) is joined as asked.
  spec.linux->namespaces->push_back({"network", std::string("/run/netns/x"), {}});
  join_guest_network(spec);
  EXPECT_EQ(spec.linux->namespaces->size(), 3u);
  // No linux section, no namespaces: nothing to do.
  oci::Spec bare;
  join_guest_network(bare);
  EXPECT_FALSE(bare.linux);
}

}  // namespace
}  // namespace hull::agent::rpc
