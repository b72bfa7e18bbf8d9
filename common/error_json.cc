#include "common/error_json.h"

#include <string>

namespace hull {

nlohmann::json error_to_json(const Error& e) {
  return {{"code", errc_name(e.code)}, {"errno", e.sys_errno}, {"msg", e.msg}};
}

Error error_from_json(const nlohmann::json& j, std::string_view channel) {
  auto field = [&](const char* name) {
    auto it = j.is_object() ? j.find(name) : j.end();
    return it == j.end() ? nullptr : &*it;
  };
  const auto* code = field("code");
  const auto* err = field("errno");
  const auto* msg = field("msg");
  if (!code || !code->is_string() || !err || !err->is_number_integer() || !msg ||
      !msg->is_string()) {
    return Error{Errc::GuestProtocol, 0,
                 std::string(channel) + ": malformed error (want code, errno and msg)"};
  }
  const int e = err->get<int>();
  return Error{errc_from_name(code->get<std::string>()).value_or(Errc::Internal),
               e > 0 && e < 4096 ? e : 0, msg->get<std::string>()};
}

}  // namespace hull
