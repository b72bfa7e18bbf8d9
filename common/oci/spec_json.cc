// Spec -> JSON. Absent optionals stay absent; every struct's `extra` keys are
// written back next to the modelled ones.
#include <string>
#include <vector>

#include "common/oci/spec.h"
#include "common/oci/spec_fields.h"

namespace hull::oci {
namespace {

template <class T>
Json write_value(const T& v);

class Writer {
 public:
  explicit Writer(Json& out) : out_(out) {}

  template <class T>
  void field(std::string_view key, const T& v, std::string_view /*rule*/ = {}) {
    known_.push_back(key);
    if constexpr (detail::IsOptional<T>::value) {
      if (v) out_[std::string(key)] = write_value(*v);
    } else {
      out_[std::string(key)] = write_value(v);
    }
  }

  template <class T>
  void lenient(std::string_view key, const T& v) {
    field(key, v);
  }

  // Unknown keys go back in; a key the model owns is never overwritten by
  // `extra` (only a hand-built Spec can have both).
  void add_extra(const Json& extra) {
    if (!extra.is_object()) return;
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      bool known = false;
      for (std::string_view k : known_) known = known || k == it.key();
      if (!known) out_[it.key()] = it.value();
    }
  }

 private:
  Json& out_;
  std::vector<std::string_view> known_;
};

template <class T>
Json write_value(const T& v) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                std::is_arithmetic_v<T> || std::is_same_v<T, Json>) {
    return Json(v);
  } else if constexpr (requires { v.extra; }) {
    Json out = Json::object();
    Writer w(out);
    detail::describe(w, v);
    w.add_extra(v.extra);
    return out;
  } else if constexpr (requires { v.begin()->second; }) {
    Json out = Json::object();
    for (const auto& [k, val] : v) out[k] = write_value(val);
    return out;
  } else {
    Json out = Json::array();
    for (const auto& e : v) out.push_back(write_value(e));
    return out;
  }
}

}  // namespace

Json to_json(const Spec& spec) {
  return write_value(spec);
}

std::string serialize_spec(const Spec& spec) {
  // replace: a hand-built Spec may hold invalid UTF-8, which dump() would
  // otherwise throw on.
  return to_json(spec).dump(1, '\t', /*ensure_ascii=*/false, Json::error_handler_t::replace) + "\n";
}

}  // namespace hull::oci
