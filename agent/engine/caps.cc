// Capabilities: the bounding set with PR_CAPBSET_DROP, the effective,
// permitted and inheritable sets with libcap-ng, the ambient set with
// PR_CAP_AMBIENT. Capabilities the running kernel does not know are skipped
// (runc warns and does the same).
#include <cap-ng.h>
#include <sys/prctl.h>

#include <algorithm>
#include <fstream>

#include "agent/engine/process_setup.h"
#include "agent/engine/str.h"

namespace hull::engine {
namespace {

int last_cap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int n = -1;
  if (in >> n) return n;
  return CAP_LAST_CAP;
}

bool has(const std::vector<int>& v, int c) {
  return std::find(v.begin(), v.end(), c) != v.end();
}

}  // namespace

Status drop_bounding_set(const CapSets& caps) {
  int last = last_cap();
  for (int c = 0; c <= last; ++c) {
    if (has(caps.bounding, c)) continue;
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
      return fail_errno(cat("process.capabilities.bounding: drop capability ", c));
    }
  }
  return {};
}

Status keep_caps(bool keep) {
  if (::prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0)
    return fail_errno("prctl(PR_SET_KEEPCAPS)");
  return {};
}

Status apply_capabilities(const CapSets& caps) {
  int last = last_cap();
  capng_clear(CAPNG_SELECT_CAPS);
  auto add = [&](capng_type_t type, const std::vector<int>& set) {
    for (int c : set) {
      if (c <= last) capng_update(CAPNG_ADD, type, static_cast<unsigned>(c));
    }
  };
  add(CAPNG_EFFECTIVE, caps.effective);
  add(CAPNG_PERMITTED, caps.permitted);
  add(CAPNG_INHERITABLE, caps.inheritable);
  if (int rc = capng_apply(CAPNG_SELECT_CAPS); rc < 0) {
    return fail(Errc::System, cat("process.capabilities: capng_apply failed (", rc, ")"));
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    return fail_errno("process.capabilities.ambient: clear");
  }
  // runc ignores a failed raise (1.1: silently; 1.2: with a warning), and
  // `runc spec`, docker and the e2e bundles list ambient capabilities that
  // are not inheritable, which the kernel refuses: skip those the same way.
  for (int c : caps.ambient) {
    if (c > last) continue;
    (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
  }
  return {};
}

}  // namespace hull::engine
