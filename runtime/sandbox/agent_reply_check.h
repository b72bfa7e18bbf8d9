// Internal to agent_reply*.cc: the checks every reply parser shares, each
// failing with Errc::GuestProtocol and "agent reply <call>: <what>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace hull::sandbox::detail {

// How much of a bad string an error message quotes.
inline constexpr size_t kQuoteBytes = 64;

std::unexpected<Error> bad(std::string_view call, const std::string& what);
// `s` printable, cut at kQuoteBytes, in double quotes.
std::string quoted(std::string_view s);
// A string field: at most `max_bytes`, no NUL, UTF-8.
Status check_text(std::string_view call, const std::string& field, std::string_view s,
                  size_t max_bytes);
// check_text, and no control characters either.
Status check_plain_text(std::string_view call, const std::string& field, std::string_view s,
                        size_t max_bytes);
Status check_at_most(std::string_view call, const std::string& field, uint64_t v, uint64_t max);

}  // namespace hull::sandbox::detail
