#include "common/container_id.h"

#include <string>

namespace hull {
namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '+' || c == ',' || c == '-' || c == '.';
}

}  // namespace

Status validate_container_id(std::string_view id) {
  auto bad = [&](const std::string& why) {
    return fail(Errc::Invalid, "invalid container ID format: \"" + std::string(id) + "\": " + why);
  };
  if (id.empty()) return bad("must not be empty");
  if (id.size() > kMaxContainerIdBytes) {
    return bad("longer than " + std::to_string(kMaxContainerIdBytes) + " bytes");
  }
  if (id == "." || id == "..") return bad("must not be \".\" or \"..\"");
  for (char c : id) {
    if (!id_char(c)) return bad("only letters, digits and _ + , - . are allowed");
  }
  return {};
}

}  // namespace hull
