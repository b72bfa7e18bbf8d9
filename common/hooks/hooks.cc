#include "common/hooks/hooks.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "common/hooks/limits.h"

namespace hull::hooks {
namespace {

// The last kMessageTail bytes of a hook's stderr on one line: trailing
// whitespace trimmed, line breaks shown as "; ".
std::string message_tail(std::string_view s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  std::string out;
  if (s.size() > kMessageTail) {
    s.remove_prefix(s.size() - kMessageTail);
    out = "...";
  }
  for (char c : s) {
    if (c == '\n') {
      out += "; ";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out;
}

std::string describe(const Outcome& o) {
  std::string what =
      o.signaled ? "killed by signal " + std::to_string(o.signal) + " (" + strsignal(o.signal) + ")"
                 : "exited with status " + std::to_string(o.exit_code);
  std::string tail = message_tail(o.stderr_tail);
  if (!tail.empty()) what += ": " + tail;
  return what;
}

// One hook, with its failure (if any) as an Error naming kind, index and path.
Status run_indexed(Kind kind, size_t index, const Hook& hook, std::string_view state, int cwd_fd) {
  std::string who =
      std::string(kind_name(kind)) + " hook #" + std::to_string(index) + " (" + hook.path + ")";
  auto r = run_one(hook, state, cwd_fd);
  if (!r) return fail(std::move(r.error()).wrap(who));
  if (r->exit_code != 0) return fail(Errc::Invalid, who + ": " + describe(*r));
  return {};
}

}  // namespace

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::Prestart:
      return "prestart";
    case Kind::CreateRuntime:
      return "createRuntime";
    case Kind::CreateContainer:
      return "createContainer";
    case Kind::StartContainer:
      return "startContainer";
    case Kind::Poststart:
      return "poststart";
    case Kind::Poststop:
      return "poststop";
  }
  return "unknown";
}

OnFailure failure_rule(Kind kind) {
  switch (kind) {
    case Kind::Prestart:
    case Kind::CreateRuntime:
    case Kind::CreateContainer:
    case Kind::StartContainer:
      return OnFailure::Abort;
    case Kind::Poststart:
    case Kind::Poststop:
      return OnFailure::Warn;
  }
  return OnFailure::Abort;
}

oci::ContainerStatus status_during(Kind kind) {
  switch (kind) {
    case Kind::Prestart:
    case Kind::CreateRuntime:
    case Kind::CreateContainer:
      return oci::ContainerStatus::Creating;
    case Kind::StartContainer:
      return oci::ContainerStatus::Created;
    case Kind::Poststart:
      return oci::ContainerStatus::Running;
    case Kind::Poststop:
      return oci::ContainerStatus::Stopped;
  }
  return oci::ContainerStatus::Creating;
}

std::vector<Hook> from_spec(const oci::Hooks& hooks, Kind kind) {
  const std::optional<std::vector<oci::Hook>>* list = nullptr;
  switch (kind) {
    case Kind::Prestart:
      list = &hooks.prestart;
      break;
    case Kind::CreateRuntime:
      list = &hooks.create_runtime;
      break;
    case Kind::CreateContainer:
      list = &hooks.create_container;
      break;
    case Kind::StartContainer:
      list = &hooks.start_container;
      break;
    case Kind::Poststart:
      list = &hooks.poststart;
      break;
    case Kind::Poststop:
      list = &hooks.poststop;
      break;
  }
  std::vector<Hook> out;
  if (list == nullptr || !*list) return out;
  for (const auto& h : **list) {
    Hook hook{h.path, h.args, h.env, std::nullopt};
    if (h.timeout && *h.timeout > 0) hook.timeout = std::chrono::seconds(*h.timeout);
    out.push_back(std::move(hook));
  }
  return out;
}

std::string state_json(const oci::State& s) {
  nlohmann::ordered_json j;
  j["ociVersion"] = s.oci_version;
  j["id"] = s.id;
  j["status"] = oci::status_name(s.status);
  if (s.pid > 0) j["pid"] = s.pid;
  j["bundle"] = s.bundle;
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return j.dump();
}

Status run_hooks(Kind kind, std::span<const Hook> hooks, std::string_view state,
                 std::vector<Error>& warnings, int cwd_fd) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    auto r = run_indexed(kind, i, hooks[i], state, cwd_fd);
    if (r) continue;
    if (failure_rule(kind) == OnFailure::Abort) return r;
    warnings.push_back(std::move(r.error()));
  }
  return {};
}

std::optional<std::chrono::seconds> total_timeout(std::span<const Hook> hooks) {
  std::chrono::seconds sum{0};
  for (const auto& h : hooks) {
    if (!h.timeout) return std::nullopt;
    sum += *h.timeout;
  }
  return sum;
}

}  // namespace hull::hooks
