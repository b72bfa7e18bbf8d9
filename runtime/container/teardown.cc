#include "runtime/container/teardown.h"

#include "runtime/container/leftovers.h"
#include "runtime/hostcgroup/cgroup.h"

namespace hull::container {

Status tear_down(const std::string& root, Record& r, const std::function<void()>& end_monitor,
                 const TeardownTrace& trace) {
  auto step = [&](std::string_view name) {
    if (trace) trace(name);
  };
  if (end_monitor) {
    step("lift-cpu-quota");
    unlimit_host_cgroup(r);
    step("end-monitor");
    end_monitor();
  }
  step("remove-cgroup");
  Status gone;
  if (r.host_cgroup) {
    auto cgroup = hostcgroup::Cgroup::from_json(*r.host_cgroup);
    if (!cgroup) {
      gone = fail(std::move(cgroup.error()));
    } else {
      gone = wrap(cgroup->remove(true), "container " + r.state.id);
      if (!gone) r.host_cgroup = cgroup->to_json();  // what is left
    }
  }
  step("remove-leftovers");
  auto left = remove_leftovers(root, r);
  if (!gone) return gone;
  return left;
}

}  // namespace hull::container
