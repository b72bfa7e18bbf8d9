// The host's checks of agent replies (runtime/sandbox/agent_reply.h): what an
// honest agent sends passes unchanged, what a lying guest could send is
// refused with an error naming the field and the value.
#include "runtime/sandbox/agent_reply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "agent/proto/constants.h"
#include "tests/unit/runtime/sandbox/agent_reply_expect.h"

namespace hull::sandbox {
namespace {

using ::testing::HasSubstr;

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
  EXPECT_EQ(r->code, 0);
  EXPECT_FALSE(r->signaled);
  r = parse_wait(wait_reply(255, false, 0));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 255);
  r = parse_wait(wait_reply(137, true, 9));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 137);
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

}  // namespace
}  // namespace hull::sandbox
