// libFuzzer target for the config.json parser: parse_spec must return a
// value or an Errc::Invalid error for any bytes (no crash, abort, hang or
// escaping exception), validate must not crash on whatever parsed, and a
// parsed spec must serialize to text that parses back to the same spec.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/oci/spec.h"

namespace {

[[noreturn]] void die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "oci_spec_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The parser takes text; the bytes are handed over unchanged (char and
  // uint8_t have the same size and representation).
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = hull::oci::parse_spec(text);
  if (!spec) {
    if (spec.error().code != hull::Errc::Invalid || spec.error().msg.empty()) {
      die("parse error without Errc::Invalid or message", spec.error().what());
    }
    return 0;
  }
  auto st = hull::oci::validate(*spec);
  if (!st && st.error().code != hull::Errc::Invalid) die("validate", st.error().what());

  std::string out = hull::oci::serialize_spec(*spec);
  auto again = hull::oci::parse_spec(out);
  if (!again) die("serialized spec does not parse", again.error().what() + "\n" + out);
  if (!(*again == *spec)) die("round trip changed the spec", out);
  auto st2 = hull::oci::validate(*again);
  if (bool(st) != bool(st2)) die("validate differs after round trip", out);
  return 0;
}
