// config.json text -> Spec: syntax, size and depth limits, then the type and
// range of every modelled field. Semantic rules live in spec_validate.cc.
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "common/file.h"
#include "common/oci/limits.h"
#include "common/oci/spec.h"
#include "common/oci/spec_fields.h"

namespace hull::oci {
namespace {

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

template <class T>
struct IsStringMap : std::false_type {};
template <class T>
struct IsStringMap<std::map<std::string, T>> : std::true_type {};

template <class T>
constexpr bool kIsInteger = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Printable ASCII stays, everything else becomes \xNN, so an error message
// never carries raw control bytes or invalid UTF-8 from the input.
std::string printable(std::string_view s, size_t max_len = 120) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

bool is_plain_key(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string join_key(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}

// Map keys may hold dots ("io.kubernetes.cri.sandbox-id"): quote those.
std::string join_map_key(const std::string& path, std::string_view key) {
  if (is_plain_key(key)) return join_key(path, key);
  return path + "[\"" + printable(key) + "\"]";
}

std::string join_index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Error type_error(const std::string& path, std::string_view rule) {
  return Error{Errc::Invalid, 0,
               path.empty() ? std::string(rule) : path + ": " + std::string(rule)};
}

template <class T>
std::string type_rule() {
  if constexpr (std::is_same_v<T, std::string>) {
    return "must be a string";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "must be a boolean";
  } else if constexpr (kIsInteger<T>) {
    return "must be an integer between " + std::to_string(std::numeric_limits<T>::min()) + " and " +
           std::to_string(std::numeric_limits<T>::max());
  } else if constexpr (IsVector<T>::value) {
    return "must be an array";
  } else {
    return "must be an object";
  }
}

class Reader;

template <class T>
Status read_value(const Json& j, const std::string& path, T& out, std::string_view rule = {});

// Reads the fields of one JSON object through describe(), collecting the keys
// it does not know into `extra`.
class Reader {
 public:
  Reader(const Json& obj, const std::string& path) : obj_(obj), path_(path) {}

  template <class T>
  void field(std::string_view key, T& out, std::string_view rule = {}) {
    known_.push_back(key);
    if (!status_) return;
    auto it = obj_.find(key);
    bool absent = it == obj_.end() || it->is_null();
    std::string path = join_key(path_, key);
    if constexpr (detail::IsOptional<T>::value) {
      if (absent) {
        out.reset();
        return;
      }
      status_ = read_value(*it, path, out.emplace(), rule);
    } else {
      if (absent) {
        status_ = std::unexpected(
            type_error(path, rule.empty() ? std::string_view(type_rule<T>()) : rule));
        return;
      }
      status_ = read_value(*it, path, out, rule);
    }
  }

  template <class T>
  void lenient(std::string_view key, T& out) {
    known_.push_back(key);
    if (!status_) return;
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return;
    status_ = read_value(*it, join_key(path_, key), out);
  }

  Status finish(Json& extra) {
    if (!status_) return status_;
    extra = Json::object();
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      bool known = false;
      for (std::string_view k : known_) known = known || k == it.key();
      if (!known) extra[it.key()] = it.value();
    }
    return {};
  }

 private:
  const Json& obj_;
  const std::string& path_;
  std::vector<std::string_view> known_;
  Status status_;
};

template <class T>
Status read_integer(const Json& j, const std::string& path, T& out) {
  using Lim = std::numeric_limits<T>;
  if (j.is_number_unsigned()) {
    auto v = j.get<Json::number_unsigned_t>();
    if (v <= static_cast<uint64_t>(Lim::max())) {
      out = static_cast<T>(v);
      return {};
    }
  } else if (j.is_number_integer()) {
    auto v = j.get<Json::number_integer_t>();
    bool in_range = v >= 0 ? static_cast<uint64_t>(v) <= static_cast<uint64_t>(Lim::max())
                           : Lim::is_signed && v >= static_cast<int64_t>(Lim::min());
    if (in_range) {
      out = static_cast<T>(v);
      return {};
    }
  }
  // Floats (1.5, 1e3, 18446744073709551616 which does not fit a uint64) and
  // every other type land here.
  return std::unexpected(type_error(path, type_rule<T>()));
}

Status read_string(const Json& j, const std::string& path, std::string& out) {
  if (!j.is_string()) return std::unexpected(type_error(path, "must be a string"));
  const auto& s = j.get_ref<const std::string&>();
  if (s.find('\0') != std::string::npos) {
    return std::unexpected(type_error(path, "must not contain a NUL character"));
  }
  out = s;
  return {};
}

template <class T>
Status read_value(const Json& j, const std::string& path, T& out, std::string_view rule) {
  if constexpr (std::is_same_v<T, std::string>) {
    return read_string(j, path, out);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) return std::unexpected(type_error(path, "must be a boolean"));
    out = j.get<bool>();
    return {};
  } else if constexpr (kIsInteger<T>) {
    return read_integer(j, path, out);
  } else if constexpr (std::is_same_v<T, Json>) {
    // Parts of the spec kept as data: only their shape is checked.
    if (!j.is_object()) return std::unexpected(type_error(path, "must be an object"));
    out = j;
    return {};
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) {
      return std::unexpected(type_error(path, rule.empty() ? type_rule<T>() : std::string(rule)));
    }
    out.clear();
    out.resize(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      HULL_TRY(read_value(j[i], join_index(path, i), out[i]));
    }
    return {};
  } else if constexpr (IsStringMap<T>::value) {
    if (!j.is_object()) return std::unexpected(type_error(path, "must be an object"));
    out.clear();
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string child = join_map_key(path, it.key());
      if (it.key().find('\0') != std::string::npos) {
        return std::unexpected(type_error(child, "key must not contain a NUL character"));
      }
      HULL_TRY(read_value(it.value(), child, out[it.key()]));
    }
    return {};
  } else {
    static_assert(detail::Described<T>, "no reader for this type");
    if (!j.is_object()) return std::unexpected(type_error(path, "must be an object"));
    Reader r(j, path);
    detail::describe(r, out);
    return r.finish(out.extra);
  }
}

// Builds the DOM like nlohmann's own parser, but stops at kMaxJsonDepth
// before any deeper value is built, and records a syntax error instead of
// throwing it.
class DepthLimitedSax {
 public:
  explicit DepthLimitedSax(Json& root) : dom_(root, /*allow_exceptions=*/false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(Json::string_t& v) { return dom_.string(v); }
  bool binary(Json::binary_t& v) { return dom_.binary(v); }
  bool key(Json::string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) { return enter() && dom_.start_object(n); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    failed_ = true;
    error_position_ = position;
    error_what_ = ex.what();
    return false;
  }

  bool too_deep() const { return too_deep_; }
  bool failed() const { return failed_; }
  size_t error_position() const { return error_position_; }
  const std::string& error_what() const { return error_what_; }

 private:
  bool enter() {
    if (++depth_ > kMaxJsonDepth) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  size_t depth_ = 0;
  bool too_deep_ = false;
  bool failed_ = false;
  size_t error_position_ = 0;
  std::string error_what_;
};

// "line 3, column 7" for nlohmann's 1-based count of bytes read (the last one
// read is the offending byte; past the end means "at the end").
std::string line_column(std::string_view text, size_t position) {
  size_t at = position == 0 ? 0 : position - 1;
  if (at > text.size()) at = text.size();
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(at - line_start + 1);
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line
// 1, column 2: syntax error while parsing value - invalid literal; ...".
// Keep the part after the location and make it read "syntax error: ...".
std::string syntax_detail(const std::string& what) {
  std::string_view s = what;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find("] ");
    if (close != std::string_view::npos) s.remove_prefix(close + 2);
  }
  auto col = s.find("column ");
  if (col != std::string_view::npos) {
    auto colon = s.find(": ", col);
    if (colon != std::string_view::npos) s.remove_prefix(colon + 2);
  }
  constexpr std::string_view kSyntax = "syntax error ";
  std::string out;
  if (s.substr(0, kSyntax.size()) == kSyntax) {
    s.remove_prefix(kSyntax.size());
    out = "syntax error: ";
  }
  return out + printable(s, 200);
}

Result<Json> parse_json(std::string_view text) {
  if (text.size() > kMaxConfigBytes) {
    return fail(Errc::Invalid, "document is " + std::to_string(text.size()) +
                                   " bytes, larger than the limit of " +
                                   std::to_string(kMaxConfigBytes) + " bytes");
  }
  Json root;
  DepthLimitedSax sax(root);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &sax, Json::input_format_t::json,
                         /*strict=*/true);
  } catch (const Json::exception& e) {
    // The SAX interface reports syntax errors through parse_error(); this
    // catches anything nlohmann still throws so it cannot cross the API.
    return fail(Errc::Invalid, "invalid JSON: " + printable(e.what(), 200));
  }
  if (sax.too_deep()) {
    return fail(Errc::Invalid, "nesting is deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels of arrays and objects");
  }
  if (sax.failed() || !ok) {
    return fail(Errc::Invalid,
                line_column(text, sax.error_position()) + ": " + syntax_detail(sax.error_what()));
  }
  return root;
}

}  // namespace

Result<Spec> spec_from_json(const Json& j, std::string_view origin) {
  Spec spec;
  Status st;
  try {
    if (!j.is_object()) {
      st = std::unexpected(type_error("", "top level must be a JSON object"));
    } else {
      st = read_value(j, "", spec);
    }
  } catch (const Json::exception& e) {
    st = fail(Errc::Invalid, "unexpected JSON error: " + printable(e.what(), 200));
  }
  if (!st) return fail(std::move(st.error()).wrap(origin));
  return spec;
}

Result<Spec> parse_spec(std::string_view text, std::string_view origin) {
  auto j = parse_json(text);
  if (!j) return fail(std::move(j.error()).wrap(origin));
  return spec_from_json(*j, origin);
}

Result<Spec> load_spec_file(const std::string& path) {
  HULL_ASSIGN(text, read_file(path, kMaxConfigBytes));
  HULL_ASSIGN(spec, parse_spec(text, path));
  HULL_TRY(validate(spec, path));
  return spec;
}

}  // namespace hull::oci
