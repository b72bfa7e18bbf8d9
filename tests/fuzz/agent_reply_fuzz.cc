// libFuzzer target for the host's checks of agent replies
// (runtime/sandbox/agent_reply.h): what a lying guest can put on the wire.
//
// Each input is used three ways:
//  1. parsed (ParseFromArray) as every reply message the host reads, each
//     then run through its check;
//  2. read by FuzzedDataProvider into messages built field by field, so the
//     checks also see what protobuf's own parser would refuse (strings that are
//     not UTF-8, for one);
//  3. as raw text for valid_utf8, printable and agent_error.
// Whatever a check accepts must hold up to what it promises (exit codes in
// 0-255, printable UTF-8 strings, ...): a broken promise traps.
#include <fuzzer/FuzzedDataProvider.h>
#include <google/protobuf/stubs/logging.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent.pb.h"
#include "runtime/sandbox/agent_reply.h"

namespace {

using namespace hull::sandbox;
namespace agent = hull::agent;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// A string the checks let through to the host's output: UTF-8, no controls.
bool clean(const std::string& s) {
  return valid_utf8(s) && printable(s) == s;
}

void check_wait(const agent::WaitProcessResponse& r) {
  auto e = parse_wait(r);
  if (!e) return;
  require(e->code >= 0 && e->code <= 255);
  require(e->signaled ? (e->signal >= 1 && e->signal <= 64 && e->code == 128 + e->signal)
                      : e->signal == 0);
}

void check_processes(const agent::ListProcessesResponse& r) {
  if (auto x = parse_process_list_extras(r)) {
    require(x->users.size() <= kMaxReplyIdNames && x->groups.size() <= kMaxReplyIdNames);
    for (const auto& [id, name] : x->users)
      require(id != UINT32_MAX && !name.empty() && clean(name));
    for (const auto& [id, name] : x->groups)
      require(id != UINT32_MAX && !name.empty() && clean(name));
  }
  auto ps = parse_processes(r);
  if (!ps) return;
  require(ps->size() <= kMaxReplyProcesses);
  for (const auto& p : *ps) {
    require(p.pid() >= 1 && static_cast<uint64_t>(p.pid()) <= kMaxGuestPid);
    require(p.ppid() >= 0 && static_cast<uint64_t>(p.ppid()) <= kMaxGuestPid);
    require(clean(p.comm()) && p.comm().size() <= kMaxCommBytes);
    for (const auto& a : p.args()) require(clean(a));
    require(p.state().size() <= 1 && p.nice() >= -20 && p.nice() <= 19);
    require(p.priority() >= -100 && p.priority() <= 139 && p.processor() >= 0);
    require(p.elapsed_ms() <= kMaxProcessTimeMs && p.cpu_time_ms() <= kMaxProcessTimeMs);
    require(p.rss_kib() <= kMaxMemoryBytes / 1024 && p.vsz_kib() <= kMaxMemoryBytes / 1024);
    require(p.tpgid() >= -1 && p.policy() <= kMaxSchedPolicy && clean(p.wchan()));
    require(clean(p.names().user()) && clean(p.names().group()) && clean(p.exe()));
    size_t env = 0;
    for (const auto& e : p.environ()) {
      require(clean(e));
      env += e.size() + 1;
    }
    require(env <= kMaxEnvironBytes);
    for (const auto& t : p.tasks()) {
      require(t.tid() >= 1 && static_cast<uint64_t>(t.tid()) <= kMaxGuestPid);
      require(clean(t.comm()) && clean(t.wchan()) && t.nice() >= -20 && t.nice() <= 19);
    }
  }
  require(r.mem_total_kib() <= kMaxMemoryBytes / 1024);
}

void check_stats(const agent::StatsContainerResponse& r) {
  auto s = parse_stats(r);
  if (!s) return;
  require(s->cpu_usage_usec() <= kMaxCpuUsec && s->cpu_user_usec() <= kMaxCpuUsec &&
          s->cpu_system_usec() <= kMaxCpuUsec);
  require(s->pids_current() <= kMaxGuestPid && s->pids_max() <= kMaxGuestPid);
}

void check_oom(const agent::OomEvent& e) {
  auto id = parse_oom_event(e);
  if (!id) return;
  require(!id->empty() && id->size() <= kMaxContainerIdBytes && clean(*id));
  require(id->find('/') == std::string::npos && *id != "." && *id != "..");
}

void check_details(agent::GuestDetailsResponse r) {
  auto d = parse_guest_details(std::move(r));
  if (!d) return;
  require(clean(d->kernel_release()) && clean(d->kernel_version()) && clean(d->machine()) &&
          clean(d->agent_version()) && clean(d->agent_commit()));
  require(d->mem_available_kib() <= d->mem_total_kib());
}

void check_shared_file(agent::ReadSharedFileResponse r, uint32_t max_bytes) {
  auto f = parse_shared_file(std::move(r), max_bytes);
  if (!f) return;
  require(f->data().size() <= max_bytes && f->size() >= f->data().size());
}

// 1: the bytes as each reply message.
void fuzz_wire(const char* data, int size) {
  if (agent::WaitProcessResponse r; r.ParseFromArray(data, size)) check_wait(r);
  if (agent::ListProcessesResponse r; r.ParseFromArray(data, size)) check_processes(r);
  if (agent::StatsContainerResponse r; r.ParseFromArray(data, size)) check_stats(r);
  if (agent::OomEvent r; r.ParseFromArray(data, size)) check_oom(r);
  if (agent::GuestDetailsResponse r; r.ParseFromArray(data, size)) check_details(r);
  if (agent::ReadSharedFileResponse r; r.ParseFromArray(data, size)) check_shared_file(r, 64);
  if (agent::WriteStdinResponse r; r.ParseFromArray(data, size)) {
    if (auto n = parse_written(r, 16)) require(*n <= 16);
  }
  if (agent::IoChunk r; r.ParseFromArray(data, size)) (void)check_io_chunk(r, "ReadStdout");
  if (agent::HealthResponse r; r.ParseFromArray(data, size)) {
    require(static_cast<bool>(check_health(r)) == (r.status() == agent::HealthResponse::SERVING));
  }
}

// 2: messages built from the bytes, field by field.
void fuzz_fields(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  agent::WaitProcessResponse w;
  w.set_exit_status(in.ConsumeIntegral<int32_t>());
  w.set_signaled(in.ConsumeBool());
  w.set_signal(in.ConsumeIntegralInRange<uint32_t>(0, 70));
  check_wait(w);

  agent::ListProcessesResponse ps;
  const int n = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < n; ++i) {
    agent::ProcessInfo* p = ps.add_processes();
    p->set_pid(in.ConsumeIntegralInRange<int32_t>(-2, 10));
    p->set_ppid(in.ConsumeIntegral<int32_t>());
    p->set_uid(in.ConsumeIntegral<uint32_t>());
    p->set_comm(in.ConsumeRandomLengthString(80));
    const int args = in.ConsumeIntegralInRange(0, 4);
    for (int k = 0; k < args; ++k) p->add_args(in.ConsumeRandomLengthString(64));
    p->set_state(in.ConsumeRandomLengthString(2));
    p->set_nice(in.ConsumeIntegralInRange<int32_t>(-25, 25));
    p->set_priority(in.ConsumeIntegralInRange<int32_t>(-110, 145));
    p->set_elapsed_ms(in.ConsumeIntegral<uint64_t>());
    p->set_rss_kib(in.ConsumeIntegral<uint64_t>());
    p->set_tpgid(in.ConsumeIntegralInRange<int32_t>(-3, 10));
    p->set_policy(in.ConsumeIntegralInRange<uint32_t>(0, 9));
    p->set_wchan(in.ConsumeRandomLengthString(16));
    p->mutable_names()->set_user(in.ConsumeRandomLengthString(16));
    p->add_environ(in.ConsumeRandomLengthString(32));
    agent::ThreadInfo* t = p->add_tasks();
    t->set_tid(in.ConsumeIntegralInRange<int32_t>(-1, 10));
    t->set_comm(in.ConsumeRandomLengthString(20));
    t->set_nice(in.ConsumeIntegralInRange<int32_t>(-25, 25));
  }
  agent::IdName* user = ps.add_users();
  user->set_id(in.ConsumeIntegral<uint32_t>());
  user->set_name(in.ConsumeRandomLengthString(16));
  ps.set_mem_total_kib(in.ConsumeIntegral<uint64_t>());
  check_processes(ps);

  agent::OomEvent e;
  e.set_container_id(in.ConsumeRandomLengthString(300));
  check_oom(e);

  agent::GuestDetailsResponse d;
  d.set_kernel_release(in.ConsumeRandomLengthString(300));
  d.set_machine(in.ConsumeRandomLengthString(16));
  d.set_agent_start_boottime_ns(in.ConsumeIntegral<uint64_t>());
  d.set_agent_ready_boottime_ns(in.ConsumeIntegral<uint64_t>());
  d.set_now_boottime_ns(in.ConsumeIntegral<uint64_t>());
  d.set_mem_total_kib(in.ConsumeIntegral<uint64_t>());
  d.set_mem_available_kib(in.ConsumeIntegral<uint64_t>());
  d.set_online_cpus(in.ConsumeIntegral<uint32_t>());
  check_details(std::move(d));

  agent::ReadSharedFileResponse f;
  const auto max_bytes = in.ConsumeIntegralInRange<uint32_t>(0, 32);
  f.set_size(in.ConsumeIntegralInRange<uint64_t>(0, 64));
  f.set_data(in.ConsumeRandomLengthString(40));
  check_shared_file(std::move(f), max_bytes);

  // The agent's error: any code, details and text.
  const auto code = static_cast<grpc::StatusCode>(in.ConsumeIntegralInRange(1, 16));
  std::string details = in.ConsumeRandomLengthString(16);
  std::string text = in.ConsumeRemainingBytesAsString();
  hull::Error err = agent_error(grpc::Status(code, text, details), "Fuzz");
  require(clean(err.msg) && err.msg.size() <= kMaxAgentErrorBytes + 64);
}

// 3: the bytes as text.
void fuzz_text(std::string_view s) {
  const std::string shown = printable(s);
  require(clean(shown));
  if (!valid_utf8(s)) require(shown != s);
  const size_t cap = s.size() % 16;
  const std::string cut = printable(s, cap);
  require(clean(cut) && cut.size() <= cap + 3);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // protobuf logs every string that is not UTF-8; the parse failing is enough.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 20)) return 0;
  fuzz_wire(reinterpret_cast<const char*>(data), static_cast<int>(size));
  fuzz_fields(data, size);
  fuzz_text(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
