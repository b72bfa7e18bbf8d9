#include "agent/engine/start_hooks.h"

namespace hull::engine {

std::vector<hooks::Hook> start_hooks(const oci::Spec& spec,
                                     const std::vector<std::string>& process_env) {
  if (!spec.hooks) return {};
  auto list = hooks::from_spec(*spec.hooks, hooks::Kind::StartContainer);
  for (auto& h : list) {
    if (!h.env) h.env = process_env;
  }
  return list;
}

std::string start_hook_state(const oci::Spec& spec, const std::string& id,
                             const std::string& bundle, int pid) {
  oci::State s;
  s.id = id;
  s.status = hooks::status_during(hooks::Kind::StartContainer);
  s.pid = pid;
  s.bundle = bundle;
  if (spec.annotations) s.annotations = *spec.annotations;
  return hooks::state_json(s);
}

Status run_start_hooks(const std::vector<hooks::Hook>& list, const std::string& state) {
  std::vector<Error> warnings;  // none: startContainer failures abort
  return hooks::run_hooks(hooks::Kind::StartContainer, list, state, warnings);
}

}  // namespace hull::engine
