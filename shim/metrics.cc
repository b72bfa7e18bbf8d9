#include "shim/metrics.h"

#include <google/protobuf/descriptor.h>

#include <limits>

namespace hull::shim {
namespace {

namespace v2 = io::containerd::cgroups::v2;

constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

uint64_t limit(uint64_t v) {
  return v == 0 ? kUnlimited : v;
}

// memory.stat keys that are MemoryStat fields of the same name (the other
// fields come from their own files).
bool from_memory_stat(std::string_view key) {
  return key != "usage" && key != "usage_limit" && key != "swap_usage" && key != "swap_limit";
}

}  // namespace

v2::Metrics to_metrics(const agent::CgroupStats& s) {
  v2::Metrics m;
  auto* pids = m.mutable_pids();
  pids->set_current(s.pids_current());
  pids->set_limit(limit(s.pids_max()));

  auto* cpu = m.mutable_cpu();
  cpu->set_usage_usec(s.cpu_usage_usec());
  cpu->set_user_usec(s.cpu_user_usec());
  cpu->set_system_usec(s.cpu_system_usec());
  cpu->set_nr_periods(s.cpu_nr_periods());
  cpu->set_nr_throttled(s.cpu_nr_throttled());
  cpu->set_throttled_usec(s.cpu_throttled_usec());

  auto* mem = m.mutable_memory();
  const google::protobuf::Descriptor* d = mem->GetDescriptor();
  const google::protobuf::Reflection* r = mem->GetReflection();
  for (const auto& [key, value] : s.memory_stat()) {
    if (!from_memory_stat(key)) continue;
    const google::protobuf::FieldDescriptor* f = d->FindFieldByName(key);
    if (f == nullptr || f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_UINT64 ||
        f->is_repeated()) {
      continue;  // a key the Metrics message has no field for
    }
    r->SetUInt64(mem, f, value);
  }
  mem->set_usage(s.memory_current());
  mem->set_usage_limit(limit(s.memory_max()));
  mem->set_swap_usage(s.memory_swap_current());

  auto* ev = m.mutable_memory_events();
  ev->set_max(s.memory_events_max());
  ev->set_oom_kill(s.oom_kills());

  auto* io = m.mutable_io();
  for (const auto& dev : s.io_devices()) {
    auto* e = io->add_usage();
    e->set_major(dev.major());
    e->set_minor(dev.minor());
    e->set_rbytes(dev.rbytes());
    e->set_wbytes(dev.wbytes());
    e->set_rios(dev.rios());
    e->set_wios(dev.wios());
  }
  return m;
}

google::protobuf::Any metrics_any(const agent::CgroupStats& s) {
  google::protobuf::Any any;
  any.set_type_url(std::string(kMetricsTypeUrl));  // bare: containerd 1.6's typeurl
  any.set_value(to_metrics(s).SerializeAsString());
  return any;
}

}  // namespace hull::shim
