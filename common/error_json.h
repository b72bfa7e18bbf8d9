// The one JSON form of an Error, on every channel that carries one between
// hull's processes (the monitor handshake, the container init's sync socket):
//
//   {"code": "<errc_name>", "errno": <n>, "msg": "<msg, without strerror>"}
//
// gRPC replies carry the same name in the status details (agent/proto/error_codec.h).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace hull {

nlohmann::json error_to_json(const Error& e);

// Back from that form. A value that is not in it gives Errc::GuestProtocol
// naming `channel`; an unknown code name gives Errc::Internal with the message.
Error error_from_json(const nlohmann::json& j, std::string_view channel);

}  // namespace hull
